"""Prefect flows: ``screen`` (extracts to cohort) and ``claims`` (attached families to
payment-by-results candidates), one task per step of the data's path.

Thin by design: the steps are plain functions (:mod:`pipelines.steps`). Parameters are
folder and file paths and a date; task results are counts and are not persisted; logs
carry counts only. No name, date of birth or identifier leaves the database and the
output folder. Called as ``screen.fn(...)`` (no flow run), the steps run directly.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.context import FlowRunContext

from pipelines import runs, steps

TASKS = {step: task(step, name=name, persist_result=False)
         for sequence in steps.STEPS.values() for name, step in sequence}


def as_task(name: str, step: steps.Step) -> steps.Step:
    """The step as a Prefect task inside a flow run, as itself outside one."""
    return TASKS[step] if FlowRunContext.get() else step


def execute(command: str, extracts: str, out: str, as_of: str | None, db: str | None,
            criteria_file: str | None) -> dict[str, int]:
    """Open the run (as of today unless given), run its steps, and inside a flow run leave
    a markdown summary of counts (no personal data)."""
    run, rules = runs.prepare(Path(extracts), as_of or dt.date.today().isoformat(), Path(out),
                              Path(db) if db else None,
                              Path(criteria_file) if criteria_file else None, command)
    counts = steps.execute(run, rules, as_task)
    if FlowRunContext.get():
        create_markdown_artifact(runs.summary_markdown(run), key=f"familyscreen-{run.command}",
                                 description=f"{run.command} as at {run.as_of.isoformat()}")
    return counts


@flow(name="screen", persist_result=False, log_prints=False)
def screen(extracts: str, out: str, as_of: str | None = None, db: str | None = None,
           criteria_file: str | None = None) -> dict[str, int]:
    """Screen one folder of extracts at an as-of date into ``out``; returns counts.

    ``as_of`` defaults to the day the run starts (a scheduled monthly run).

    A run that cannot go ahead raises :class:`pipelines.db.RunError`; the ``runs`` table
    records the step and reason, and earlier outputs stay as they were.
    """
    return execute("screen", extracts, out, as_of, db, criteria_file)


@flow(name="claims", persist_result=False, log_prints=False)
def claims(extracts: str, out: str, as_of: str | None = None, db: str | None = None,
           criteria_file: str | None = None) -> dict[str, int]:
    """Evaluate payment-by-results claims for the attached families; returns counts.

    Reads ``attachments`` and ``claims_history`` with the outcome period's extracts;
    needs a database holding the screening runs that identified the families.
    """
    return execute("claims", extracts, out, as_of, db, criteria_file)
