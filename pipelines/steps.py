"""The steps of each command in order, each a plain function of the run and rule set.

Each opens the run database, calls one module of the data's path and returns counts.
The Prefect flow wraps each as a task; tests call them directly.
"""

from __future__ import annotations

import logging
import resource
import time
from collections.abc import Callable

import pandas as pd

from pipelines import (
    claims,
    cohort,
    criteria,
    extract,
    households,
    link,
    run_warnings,
    runs,
    standardise,
    validate,
)
from pipelines.db import WORK, RunError, connect
from pipelines.rule_set import RuleSet
from pipelines.runs import Run
from schemas import EXTRACTS

log = logging.getLogger("familyscreen")
Step = Callable[[Run, RuleSet], dict[str, int]]


def load(run: Run, rules: RuleSet) -> dict[str, int]:
    """Extract files → ``raw_*``; what was read is kept in ``work.input_files``."""
    with connect(run.working, run.debug) as con:
        loaded = extract.load_all(con, run.extracts, EXTRACTS)
        frame = pd.DataFrame([{"extract": x.name, "path": x.path, "sha256": x.sha256,
                               "encoding": x.encoding} for x in loaded])
        con.register("__files", frame)
        con.execute(f"create or replace table {WORK}.input_files as select * from __files")
    counts = {x.name: x.rows_read for x in loaded}
    log.debug("load: %s", counts)
    return counts


def validate_and_stage(run: Run, rules: RuleSet) -> dict[str, int]:
    """``raw_*`` → pandera → ``stg_*`` + rejects; counts kept in ``work.input_counts``."""
    with connect(run.working, run.debug) as con:
        counts = validate.validate_all(con, EXTRACTS, run.as_of)
        con.register("__counts", pd.DataFrame([vars(c) for c in counts]))
        con.execute(f"create or replace table {WORK}.input_counts as select * from __counts")
    for c in counts:
        log.debug("validate %s: %d staged, %d rejected, %d values nulled",
                 c.extract, c.rows_staged, c.rows_rejected, c.values_nulled)
    return {c.extract: c.rows_rejected for c in counts}


def standardise_records(run: Run, rules: RuleSet) -> dict[str, int]:
    with connect(run.working, run.debug) as con:
        return standardise.standardise(con, rules, run.as_of.isoformat())


def link_persons(run: Run, rules: RuleSet) -> dict[str, int]:
    with connect(run.working, run.debug) as con:
        return link.link(con, run.as_of.isoformat(), run.previous_run_id, rules.linkage,
                         runs.load_model(run.model) if run.model else None)


def form_households(run: Run, rules: RuleSet) -> dict[str, int]:
    with connect(run.working, run.debug) as con:
        return households.form_households(con, run.previous_run_id)


def apply_criteria(run: Run, rules: RuleSet) -> dict[str, int]:
    with connect(run.working, run.debug) as con:
        return criteria.evaluate(con, rules, run.as_of)


def build_cohort(run: Run, rules: RuleSet) -> dict[str, int]:
    with connect(run.working, run.debug) as con:
        return cohort.build_cohort(con, rules, run.previous_run_id)


def write_outputs(run: Run, rules: RuleSet) -> dict[str, int]:
    with connect(run.working, run.debug) as con:
        return runs.write_outputs(con, run, rules)


def evaluate_claims(run: Run, rules: RuleSet) -> dict[str, int]:
    with connect(run.working, run.debug) as con:
        return claims.evaluate(con, rules, run.as_of.isoformat())


def find_warnings(run: Run, rules: RuleSet) -> dict[str, int]:
    """Warnings on the inputs (and, for claims, on the attached families), kept in
    ``work.run_warnings``; their number by code."""
    with connect(run.working) as con:
        inputs = runs.input_summary(con)
        found = run_warnings.input_warnings(
            inputs, run_warnings.top_reasons(con), rules.warnings.max_rejected_share,
            "rejects.csv" if run.command == "screen" else "claims_rejects.csv")
        if run.command == "claims":
            attachments = next(i["file"] for i in inputs if i["extract"] == "attachments")
            found += run_warnings.claims_warnings(con, attachments)
        run_warnings.store(con, found)
    counts: dict[str, int] = {}
    for w in found:
        counts[w["code"]] = counts.get(w["code"], 0) + 1
    return counts


def write_claims(run: Run, rules: RuleSet) -> dict[str, int]:
    with connect(run.working, run.debug) as con:
        return claims.write_outputs(con, run, rules)


LINKED: list[tuple[str, Step]] = [
    ("load", load),
    ("validate", validate_and_stage),
    ("standardise", standardise_records),
    ("link", link_persons),
]
SCREEN: list[tuple[str, Step]] = [
    *LINKED[:2],
    ("warnings", find_warnings),
    *LINKED[2:],
    ("households", form_households),
    ("criteria", apply_criteria),
    ("cohort", build_cohort),
    ("outputs", write_outputs),
]
CLAIMS: list[tuple[str, Step]] = [
    *LINKED,
    ("claims", evaluate_claims),
    ("warnings", find_warnings),
    ("outputs", write_claims),
]
STEPS = {"screen": SCREEN, "claims": CLAIMS}


def peak_memory_gib() -> float:
    """This process's peak resident memory so far, in GiB (DuckDB's and Python's: the
    linkage model's DuckDB works in this process too). A step whose line shows a rise
    reached that peak itself; the peak a run needs is the last line's."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def execute(run: Run, rules: RuleSet,
            wrap: Callable[[str, Step], Step] = lambda name, step: step,
            strict: bool = False) -> dict[str, int]:
    """Run the command's steps in order in the run's working copy, then publish it; a
    failure is recorded against its step (``publish`` for the last), then re-raised.
    ``strict``: a warning fails the run at its step, before any output."""
    name = "load"
    counts: dict[str, int] = {}
    sequence = STEPS[run.command]
    try:
        for number, (name, step) in enumerate(sequence, start=1):
            started = time.perf_counter()
            log.info("[%d/%d] %s …", number, len(sequence), name)
            counts = wrap(name, step)(run, rules)
            if strict and step is find_warnings and counts:
                with connect(run.working) as con:
                    raise RunError(run_warnings.strict_failure(run_warnings.recorded(con)))
            log.info("[%d/%d] %s done in %.1fs, memory peak so far %.1f GiB", number,
                     len(sequence), name, time.perf_counter() - started, peak_memory_gib())
        name = "publish"
        runs.finish(run)
    except Exception as exc:
        runs.mark_failed(run, name, exc)
        raise
    return counts
