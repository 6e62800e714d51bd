"""Prefect flows: ``screen`` — extracts to cohort, a task per step of the data's path.

Thin by design: each task opens the run database, calls one plain module and returns
counts. Parameters are folder and file paths and a date; results are counts and are not
persisted; logs carry counts only. No name, date of birth or identifier leaves the
database and the output folder.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task

from pipelines import cohort, criteria, extract, households, link, runs, standardise, validate
from pipelines.db import connect
from pipelines.runs import ScreenRun
from schemas import EXTRACTS


@task(name="load", persist_result=False)
def load_task(run: ScreenRun) -> list[dict[str, Any]]:
    with connect(run.db) as con:
        loaded = extract.load_all(con, run.extracts, EXTRACTS)
    for item in loaded:
        get_run_logger().info("load %s: %d rows", item.name, item.rows_read)
    return [asdict(x) for x in loaded]


@task(name="validate", persist_result=False)
def validate_task(run: ScreenRun) -> list[dict[str, Any]]:
    with connect(run.db) as con:
        counts = validate.validate_all(con, EXTRACTS, pd.Timestamp(run.as_of))
    for c in counts:
        get_run_logger().info("validate %s: %d staged, %d rejected, %d values nulled",
                              c.extract, c.rows_staged, c.rows_rejected, c.values_nulled)
    return [asdict(c) for c in counts]


@task(name="standardise", persist_result=False)
def standardise_task(run: ScreenRun, rules: criteria.RuleSet) -> dict[str, int]:
    with connect(run.db) as con:
        return standardise.standardise(con, rules, run.as_of.isoformat())


@task(name="link", persist_result=False)
def link_task(run: ScreenRun) -> dict[str, int]:
    with connect(run.db) as con:
        return link.link(con, run.as_of.isoformat(), run.previous_run_id)


@task(name="households", persist_result=False)
def households_task(run: ScreenRun) -> dict[str, int]:
    with connect(run.db) as con:
        return households.form_households(con, run.previous_run_id)


@task(name="criteria", persist_result=False)
def criteria_task(run: ScreenRun, rules: criteria.RuleSet) -> dict[str, int]:
    with connect(run.db) as con:
        return criteria.evaluate(con, rules, run.as_of)


@task(name="cohort", persist_result=False)
def cohort_task(run: ScreenRun, rules: criteria.RuleSet) -> dict[str, int]:
    with connect(run.db) as con:
        return cohort.build_cohort(con, rules, run.previous_run_id)


@task(name="outputs", persist_result=False)
def outputs_task(run: ScreenRun, rules: criteria.RuleSet, loaded: list[dict[str, Any]],
                 validated: list[dict[str, Any]]) -> dict[str, int]:
    with connect(run.db) as con:
        return runs.write_outputs(con, run, rules, loaded, validated)


@flow(name="screen", persist_result=False, log_prints=False)
def screen(extracts: str, as_of: str, out: str, db: str | None = None,
           criteria_file: str | None = None) -> dict[str, int]:
    """Screen one folder of extracts at an as-of date into ``out``.

    Returns counts only. A run that cannot go ahead raises :class:`RunError`; the
    ``runs`` table then records the step and reason, and earlier outputs stay as they were.
    """
    run, rules = runs.prepare(Path(extracts), as_of, Path(out),
                              Path(db) if db else None,
                              Path(criteria_file) if criteria_file else None)
    logger = get_run_logger()
    logger.info("run %s as at %s with %s %s", run.run_id, run.as_of, rules.name, rules.version)
    step = "load"
    try:
        loaded = load_task(run)
        step = "validate"
        validated = validate_task(run)
        step = "standardise"
        standardise_task(run, rules)
        step = "link"
        link_task(run)
        step = "households"
        households_task(run)
        step = "criteria"
        criteria_task(run, rules)
        step = "cohort"
        cohort_task(run, rules)
        step = "outputs"
        counts = outputs_task(run, rules, loaded, validated)
    except Exception as exc:
        runs.mark_failed(run, step, exc)
        raise
    logger.info("cohort: %d families (%d new)", counts["cohort"], counts["new"])
    return counts
