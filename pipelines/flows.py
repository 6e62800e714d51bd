"""Prefect flows: ``screen`` (extracts to cohort) and ``claims`` (attached families to
payment-by-results candidates), one task per step of the data's path.

Thin by design: the steps are plain functions (:mod:`pipelines.steps`). Parameters are
folder and file paths and a date; task results are counts and are not persisted; logs
carry counts only. No name, date of birth or identifier leaves the database and the
output folder. Called as ``screen.fn(...)`` (no flow run), the steps run directly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.context import FlowRunContext
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

from pipelines import publish, runs, steps
from pipelines import region as regions
from pipelines.db import RunError

log = logging.getLogger("familyscreen")
WAIT_MINUTES = 120.0  # a 1,000,000-household screening takes under 10 minutes
LEASE_SECONDS = 120  # a killed run's slot is free again after this
TASKS = {step: task(step, name=name, persist_result=False)
         for sequence in steps.STEPS.values() for name, step in sequence}


def as_task(name: str, step: steps.Step) -> steps.Step:
    """The step as a Prefect task inside a flow run, as itself outside one."""
    return TASKS[step] if FlowRunContext.get() else step


def limit_name(db: Path) -> str:
    """The Prefect global concurrency limit of one database: runs on any worker that
    write to the same file share it (the path is hashed: names take no slashes)."""
    return "familyscreen-db-" + hashlib.sha256(str(db.resolve()).encode()).hexdigest()[:16]


@contextlib.contextmanager
def prefect_turn(db: Path, wait_minutes: float) -> Iterator[None]:
    """One slot of the database's global concurrency limit (created with one slot when
    missing) for the block, on a Prefect server's workers; nothing without a server (the
    command line's temporary one): the file lock alone then keeps runs in turn."""
    if not (FlowRunContext.get() and os.environ.get("PREFECT_API_URL")):
        yield
        return
    name = limit_name(db)
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            with contextlib.suppress(ObjectAlreadyExists):
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=1))
    started = time.monotonic()
    try:
        with concurrency(name, timeout_seconds=wait_minutes * 60,
                         lease_duration=LEASE_SECONDS, strict=True):
            if time.monotonic() - started > 1:
                log.warning("waited %.0f s for another run of %s (concurrency limit %s)",
                            time.monotonic() - started, db.name, name)
            yield
    except TimeoutError as exc:
        raise RunError(f"{db} was still in use by another run after {wait_minutes:g} minutes "
                       f"(Prefect concurrency limit {name}); this run did not start") from exc


def execute(command: str, extracts: str, out: str, as_of: str | None, db: str | None,
            criteria_file: str | None, strict: bool = False, model_file: str | None = None,
            debug: bool = False, wait_minutes: float = WAIT_MINUTES) -> dict[str, int]:
    """Wait for the database's turn, open the run (as of today unless given), run its
    steps (``strict``: failing on a warning), and inside a flow run leave a markdown
    summary of counts (no personal data)."""
    database = runs.database(Path(out), Path(db) if db else None)
    with prefect_turn(database, wait_minutes), \
            publish.turn(database, wait_minutes, publish.holder_text(command)):
        run, rules = runs.prepare(Path(extracts), as_of or dt.date.today().isoformat(),
                                  Path(out), database,
                                  Path(criteria_file) if criteria_file else None, command,
                                  Path(model_file) if model_file else None, debug)
        counts = steps.execute(run, rules, as_task, strict)
        if FlowRunContext.get():
            create_markdown_artifact(runs.summary_markdown(run),
                                     key=f"familyscreen-{run.command}",
                                     description=f"{run.command} as at {run.as_of.isoformat()}")
    return counts


@flow(name="screen", persist_result=False, log_prints=False)
def screen(extracts: str, out: str, as_of: str | None = None, db: str | None = None,
           criteria_file: str | None = None, strict: bool = False,
           model_file: str | None = None, debug: bool = False,
           wait_minutes: float = WAIT_MINUTES) -> dict[str, int]:
    """Screen one folder of extracts at an as-of date into ``out``; returns counts.

    ``as_of`` defaults to the day the run starts (a scheduled monthly run). ``strict``
    fails the run when it warns (an extract with no data rows or too many rejected),
    leaving the outputs of earlier runs as they were; ``model_file``, an earlier run's
    linkage model to score with instead of training one; ``debug`` keeps every step's
    intermediate tables in the database's ``debug`` schema. A run of the same database
    in progress is waited for, up to ``wait_minutes``.

    A run that cannot go ahead raises :class:`pipelines.db.RunError`; the ``runs`` table
    records the step and reason, and earlier outputs stay as they were.
    """
    return execute("screen", extracts, out, as_of, db, criteria_file, strict, model_file,
                   debug, wait_minutes)


@flow(name="claims", persist_result=False, log_prints=False)
def claims(extracts: str, out: str, as_of: str | None = None, db: str | None = None,
           criteria_file: str | None = None, strict: bool = False, debug: bool = False,
           wait_minutes: float = WAIT_MINUTES
           ) -> dict[str, int]:
    """Evaluate payment-by-results claims for the attached families; returns counts.

    Reads ``attachments`` and ``claims_history`` with the outcome period's extracts;
    needs a database holding the screening runs that identified the families. A run of
    the same database in progress is waited for, up to ``wait_minutes``.
    """
    return execute("claims", extracts, out, as_of, db, criteria_file, strict, debug=debug,
                   wait_minutes=wait_minutes)


def wait_for(started: dict[str, UUID], poll_seconds: float) -> dict[str, str]:
    """Each flow run's final state type (``COMPLETED``, ``FAILED``, ``CRASHED``,
    ``CANCELLED``), polled until all are final; in the order given."""
    states: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        while len(states) < len(started):
            for name, run_id in started.items():
                state = None if name in states else client.read_flow_run(run_id).state
                if state is not None and state.is_final():
                    states[name] = state.type.value
            if len(states) < len(started):
                time.sleep(poll_seconds)
    return {name: states[name] for name in started}


@flow(name="screen-region", persist_result=False, log_prints=False)
def screen_region(region: str, as_of: str | None = None,
                  deployment: str = "screen/monthly-screening",
                  criteria_file: str | None = None, poll_seconds: float = 5.0
                  ) -> dict[str, str]:
    """Screen every authority of a region (``<region>/<authority>/extracts/``, see
    :mod:`pipelines.region`) as at one date: one run of ``deployment`` per authority, all
    triggered at once for the work pool's workers to share, then waited for. Returns each
    authority's final state.

    ``as_of`` defaults to today, fixed here so that every authority is screened as at the
    same date whenever its run starts. One authority's failure stops none of the others;
    the region's run fails after all have ended, naming those that did not complete.
    """
    as_of = as_of or dt.date.today().isoformat()
    started: dict[str, UUID] = {}
    for folder in regions.authorities(Path(region)):
        try:
            run = run_deployment(deployment, timeout=0, flow_run_name=f"{folder.name} {as_of}",
                                 parameters=regions.parameters(folder, as_of, criteria_file))
        except ObjectNotFound as exc:
            raise RunError(f"deployment {deployment} is not on the Prefect server: deploy it "
                           "(prefect deploy --all)") from exc
        started[folder.name] = run.id
    states = wait_for(started, poll_seconds)
    create_markdown_artifact(regions.summary_markdown(as_of, states), key="familyscreen-region",
                             description=f"region screening as at {as_of}")
    failed = [name for name, state in states.items() if state != "COMPLETED"]
    if failed:
        raise RunError(f"{len(failed)} of {len(states)} authorities did not complete: "
                       + ", ".join(f"{name} ({states[name].lower()})" for name in failed))
    return states
