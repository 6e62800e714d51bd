"""A screening run's life: its id and settings, the ``runs`` row, and its outputs.

``prepare`` checks the arguments and opens the run (status ``running``) in its own copy of
the database (:mod:`pipelines.publish`); ``write_outputs`` writes every file into a private
folder, records the run in its copy in one transaction and only then moves the files into
``--out``; ``finish`` publishes the copy for analysts; ``mark_failed`` publishes the step
and reason of a run that could not finish, and nothing else of it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines import CRITERIA_DIR, ROOT, __version__, cohort, exports, lineage, publish, report
from pipelines.db import DEBUG, RunError, connect
from pipelines.rule_set import RuleSet, load_rule_set
from pipelines.run_warnings import recorded as recorded_warnings

DEFAULT_CRITERIA = CRITERIA_DIR / "phase1.yaml"
DB_NAME = "familyscreen.duckdb"


@dataclass(frozen=True)
class Run:
    """Where one run (``screen`` or ``claims``) reads and writes: paths and a date, no
    personal data."""

    command: str
    run_id: str
    extracts: Path
    as_of: dt.date
    out: Path
    db: Path
    criteria: Path
    started_at: dt.datetime
    # ids carry on from it, and new/continuing are against it (as at or before as_of)
    previous_run_id: str | None = None
    model: Path | None = None  # an earlier run's linkage model to score with (--model)
    debug: bool = False  # keep every step's intermediate tables (--debug)

    @property
    def working(self) -> Path:
        """The run's own copy of ``db``, where its steps read and write."""
        return publish.working(self.db)


def database(out: Path, db: Path | None) -> Path:
    """The run database: ``--db``, or ``familyscreen.duckdb`` in the output folder."""
    return db or out / DB_NAME


def code_version() -> str:
    """The package version, and the git commit when run from a checkout."""
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=5, check=True)
        return f"{__version__}+{commit.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        return __version__


def parse_as_of(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise RunError(f"--as-of {value!r} is not a date in YYYY-MM-DD form") from exc


def previous_run(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> str | None:
    """The newest succeeded screening run as at or before ``as_of``; the last to finish
    among equals. Ids carry on from it, so a re-run keeps them, and ``status`` compares
    with it: "new" is not in the previous run, so a second run of the same inputs finds
    none new, and re-running a past month never compares with a later one."""
    row = con.execute("""select run_id from main.runs
        where command = 'screen' and status = 'succeeded'
            and as_of_date <= $as_of
        order by as_of_date desc, finished_at desc, run_id desc limit 1""",
                      {"as_of": as_of}).fetchall()
    return row[0][0] if row else None


def load_model(path: Path) -> dict[str, Any]:
    """A stored linkage model (splink's JSON, as ``familyscreen model`` writes it)."""
    try:
        model = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RunError(f"{path}: cannot read the model file ({exc.strerror})") from exc
    except ValueError as exc:
        raise RunError(f"{path}: not a linkage model (not JSON: {exc})") from exc
    if not isinstance(model, dict) or not model.get("comparisons"):
        raise RunError(f"{path}: not a linkage model (no comparisons); write one with "
                       "'familyscreen model'")
    return model


def prepare(extracts: Path, as_of: str, out: Path, db: Path | None, criteria: Path | None,
            command: str = "screen", model: Path | None = None, debug: bool = False
            ) -> tuple[Run, RuleSet]:
    """Check the arguments, load the rule set and record the run as ``running`` in a
    working copy of the database. The caller holds the database's turn
    (:func:`pipelines.publish.turn`)."""
    as_of_date = parse_as_of(as_of)
    if not extracts.is_dir():
        raise RunError(f"{extracts}: extracts folder not found")
    if model is not None:
        load_model(model)
    criteria = criteria or DEFAULT_CRITERIA
    rules = load_rule_set(criteria)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = database(out, db)
    started = dt.datetime.now().replace(microsecond=0)
    run_id = f"{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    with connect(publish.begin(db)) as con:
        cohort.ensure_schema(con)
        if debug:  # one run's intermediate tables at a time
            con.execute(f"drop schema if exists {DEBUG} cascade")
        previous = previous_run(con, as_of_date)
        con.execute("""insert into runs (run_id, command, as_of_date, criteria_name,
                criteria_version, criteria_sha256, status, started_at, code_version)
            values ($run_id, $command, $as_of, $name, $version, $sha, 'running', $started,
                $code)""",
                    {"run_id": run_id, "command": command, "as_of": as_of_date, "name": rules.name,
                     "version": rules.version, "sha": rules.sha256, "started": started,
                     "code": code_version()})
    publish.working(db).chmod(0o600)  # personal data: readable by its owner only
    run = Run(command, run_id, extracts, as_of_date, out, db, criteria, started, previous,
              model, debug)
    return run, rules


def finish(run: Run) -> None:
    """Publish the run: its working copy, every step done and closed, replaces the
    database analysts read."""
    publish.replace(run.working, run.db)


def mark_failed(run: Run, step: str, error: BaseException) -> None:
    """Publish a run that stopped: the step and the first line of the reason."""
    reason = (str(error).splitlines() or [type(error).__name__])[0]
    # when the database itself is the problem, the error already says so
    with contextlib.suppress(duckdb.Error, RunError, OSError):
        publish.record_failure(run.db, run.run_id, step, reason)


def input_summary(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """One row per extract: file, SHA-256, encoding, rows read, staged, rejected, nulled."""
    inputs = report.rows(con, """
        select f.extract, f.path, f.sha256, f.encoding, c.rows_read, c.rows_staged,
            c.rows_rejected, c.values_nulled
        from work.input_files as f join work.input_counts as c using (extract)""")
    for item in inputs:
        item["file"] = Path(item.pop("path")).name if item["path"] else None
    return inputs


def input_totals(inputs: list[dict]) -> dict[str, int]:
    """Rows read, staged and rejected over every extract."""
    return {k: sum(i[k] for i in inputs) for k in ("rows_read", "rows_staged", "rows_rejected")}


def run_header(run: Run, rules: RuleSet) -> dict[str, str]:
    """What every report and manifest says about the run itself."""
    return {"run_id": run.run_id, "command": run.command, "as_of": run.as_of.isoformat(),
            "criteria_name": rules.name, "criteria_version": rules.version,
            "started_at": run.started_at.isoformat(),
            "finished_at": dt.datetime.now().replace(microsecond=0).isoformat(),
            "code_version": code_version()}


def manifest(run: Run, rules: RuleSet, inputs: list[dict], counts: dict[str, int],
             warnings: list[dict]) -> dict[str, Any]:
    """The run manifest, before the output files' hashes are added."""
    return {**run_header(run, rules),
            "criteria_file": str(run.criteria), "criteria_sha256": rules.sha256,
            "extracts_folder": str(run.extracts), "database": str(run.db),
            "inputs": inputs, "counts": counts, "warnings": warnings}


def write_outputs(con: duckdb.DuckDBPyConnection, run: Run, rules: RuleSet) -> dict[str, int]:
    """Write CSVs, report and manifest, publish the database, then move the files in."""
    inputs = input_summary(con)
    totals = input_totals(inputs)
    counts = totals | dict(zip(
        ("persons", "families", "cohort", "new", "cohort_members", "addresses_resolved",
         "addresses_unresolved", "addresses_ambiguous"),
        con.execute("""select (select count(*) from work.persons),
            (select count(*) from work.families), (select count(*) from work.cohort),
            (select count(*) from work.cohort where status = 'new'),
            (select count(*) from work.cohort_members),
            (select count(*) from work.address_matches where uprn is not null),
            (select count(*) from work.address_matches where uprn is null),
            (select count(*) from work.address_matches
             where unresolved_reason = 'several properties fit equally')""").fetchone(),
        strict=True)) | lineage.id_changes(con)
    warnings = recorded_warnings(con)
    counts["warnings"] = len(warnings)
    with publish.staged_outputs(run.out, run.run_id) as folder:
        exports.write_csvs(con, rules, folder)
        run_manifest = manifest(run, rules, inputs, counts, warnings)
        board = report.context(run_header(run, rules), inputs,
                               report.report_figures(con, rules, run.previous_run_id),
                               warnings, rules)
        report.write(folder / "report.html", board)
        exports.write_manifest(folder, "run_manifest.json", run_manifest)
        report.save(con, run.run_id, board)
        cohort.publish(con, run.run_id, rules, counts)
    return counts


def summary_markdown(run: Run) -> str:
    """The run in counts only, for a Prefect artifact: inputs, rejects, results (read
    from the published database, read-only like any analyst's connection)."""
    with connect(run.db, read_only=True) as con:
        inputs = con.execute("""select extract, rows_read, rows_staged, rows_rejected,
            values_nulled from work.input_counts order by extract""").fetchall()
        status, cohort_size = con.execute(
            "select status, n_cohort_families from main.runs where run_id = $r",
            {"r": run.run_id}).fetchone()
        changes = con.execute("""select count(*) filter (where status = 'new'),
            count(*) filter (where status = 'continuing') from main.cohort_history
            where run_id = $r""", {"r": run.run_id}).fetchone()
        results = con.execute("""select result, status, count(*) from
            main.pbr_candidates_history where run_id = $r group by all order by 1, 2""",
                              {"r": run.run_id}).fetchall()
        ids = lineage.id_changes(con) if run.command == "screen" else {}
    lines = [f"# familyscreen {run.command} as at {run.as_of.isoformat()}", "",
             f"Run `{run.run_id}`: {status}.", "",
             "| extract | read | staged | rejected | values nulled |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {e} | {r} | {s} | {x} | {n} |" for e, r, s, x, n in inputs]
    if run.command == "screen":
        lines += ["", f"Cohort: {cohort_size} families ({changes[0]} new, "
                      f"{changes[1]} continuing).", "", lineage.summary_line(ids)]
    else:
        lines += ["", "| result | status | families |", "|---|---|---:|"]
        lines += [f"| {r} | {s} | {n} |" for r, s, n in results]
    return "\n".join(lines) + "\n"
