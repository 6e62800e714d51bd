"""What an analyst runs by hand: check a folder of extracts, list past runs, fetch the
linkage model a run used.

Each prints counts, reasons or model parameters only, never a value from a row.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import duckdb

from pipelines import extract, publish, run_warnings, validate
from pipelines.db import RunError, connect
from pipelines.rule_set import load_rule_set
from pipelines.runs import DEFAULT_CRITERIA
from schemas import EXTRACTS


def check_extracts(folder: Path, as_of: dt.date, criteria: Path | None = None
                   ) -> tuple[str, list[dict]]:
    """Load and validate every extract in memory (nothing written): the rejects summary,
    and the warnings a screening of the folder would give (thresholds from ``criteria``,
    the default rule set unless given)."""
    rules = load_rule_set(criteria or DEFAULT_CRITERIA)
    with connect(":memory:") as con:
        loaded = extract.load_all(con, folder, EXTRACTS)
        counts = validate.validate_all(con, EXTRACTS, as_of)
        top = run_warnings.top_reasons(con)
        reasons = con.execute("""
            select extract, "column", problem, count(*) from work.rejects
            group by all order by extract, count(*) desc, "column", problem""").fetchall()
        nulled = con.execute("""
            select extract, "column", problem, count(*) from work.value_warnings
            group by all order by extract, count(*) desc, "column", problem""").fetchall()
    files = {x.name: x for x in loaded}
    lines = [f"{'extract':<20} {'file':<28} {'read':>7} {'staged':>7} {'rejected':>8} "
             f"{'nulled':>7}"]
    for c in counts:
        item = files[c.extract]
        name = Path(item.path).name + (f" ({item.encoding})" if item.encoding else "") \
            if item.path else "not supplied"
        lines.append(f"{c.extract:<20} {name:<28} {c.rows_read:>7} {c.rows_staged:>7} "
                     f"{c.rows_rejected:>8} {c.values_nulled:>7}")
    for title, rows in (("rows rejected", reasons), ("values nulled (rows kept)", nulled)):
        if rows:
            lines += ["", f"{title}:"]
            lines += [f"  {n:>6}  {e}.{col or '(row)'}: {p}" for e, col, p, n in rows]
    inputs = [{"extract": c.extract, "rows_read": c.rows_read, "rows_rejected": c.rows_rejected,
               "file": Path(files[c.extract].path).name if files[c.extract].path else None}
              for c in counts]
    found = run_warnings.input_warnings(inputs, top, rules.warnings.max_rejected_share,
                                        "the rows rejected above")
    return "\n".join(lines), found


SALT_VARIABLE = "FAMILYSCREEN_PSEUDO_SALT"


def connect_pseudonymised(db: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection for the ``*_pseudo`` views, salted from the environment
    (``FAMILYSCREEN_PSEUDO_SALT``); the salt lives only in this session."""
    salt = os.environ.get(SALT_VARIABLE, "")
    if len(salt) < 16:
        raise RunError(f"{SALT_VARIABLE} must hold a secret of at least 16 characters")
    con = duckdb.connect(str(db), read_only=True)
    con.execute("set variable pseudo_salt = $s", {"s": salt})
    return con


def list_runs(db: Path) -> str:
    """One line per finished run, newest first; then the run in progress, if any."""
    if not db.exists():
        raise RunError(f"{db}: no such database")
    with connect(db, read_only=True) as con:
        rows = con.execute("""
            select run_id, command, as_of_date, status, coalesce(failed_step, ''),
                coalesce(failure_reason, ''), criteria_name || ' ' || criteria_version,
                n_rows_read, n_rows_rejected, n_cohort_families
            from main.runs order by started_at desc, run_id desc""").fetchall()
    lines = [f"{'run_id':<24} {'command':<7} {'as_of':<10} {'status':<9} {'rules':<14} "
             f"{'read':>7} {'rejected':>8} {'cohort':>6}  failure"]
    for r in rows:
        failure = f"{r[4]}: {r[5]}" if r[3] == "failed" else ""
        lines.append(f"{r[0]:<24} {r[1]:<7} {r[2]!s:<10} {r[3]:<9} {r[6]:<14} "
                     f"{r[7] if r[7] is not None else '':>7} "
                     f"{r[8] if r[8] is not None else '':>8} "
                     f"{r[9] if r[9] is not None else '':>6}  {failure}")
    running = publish.in_progress(db)
    if running:
        lines.append(f"in progress (listed when it ends): {running}")
    return "\n".join(lines)


def stored_model(db: Path, run_id: str | None = None) -> str:
    """The linkage model (splink's JSON) a screening run scored with: run ``run_id``, or
    the latest screening run's."""
    if not db.exists():
        raise RunError(f"{db}: no such database")
    with connect(db) as con:
        row = con.execute("""select h.model_json from main.link_model_history as h
            join main.runs as r using (run_id)
            where r.command = 'screen' and r.status = 'succeeded'
                and ($run_id is null or run_id = $run_id)
            order by r.finished_at desc, run_id desc limit 1""", {"run_id": run_id}).fetchall()
    if not row or row[0][0] is None:
        which = f"run {run_id}" if run_id else "the latest screening run"
        raise RunError(f"{db}: no linkage model stored for {which} (a model is stored from "
                       "this version on, when the run trained one)")
    return json.dumps(json.loads(row[0][0]), indent=2)
