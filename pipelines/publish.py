"""Publishing: every write others see is atomic. The analysts' database is a snapshot
that a run replaces whole, runs take turns, and a run's files replace the last run's
only when all are written (:func:`staged_outputs`).

Grain: one published DuckDB file per database (``familyscreen.duckdb``), holding every
finished run (succeeded or failed) and nothing of a run in progress.

Why: DuckDB lets one process write a file or any number read it, never both, so an
analyst's read-only connection left open stopped the schedule (issue 24). A run therefore
never writes into the published file (it only writes in a log another program left, see
:func:`settled`). It copies it to ``<db>.running`` and works
there (the same tables, history and views); when the run has succeeded it renames its copy
over the published file, which is atomic on one filesystem. A connection already open
keeps reading the file it opened (on Linux the old inode lives until it is closed); a
connection opened after sees the new run. A run that fails publishes its ``runs`` row
alone, the same way; a run killed before its rename leaves the published file as it was.
What either leaves beside it is removed by the next run.

Runs against one database take turns through ``<db>.lock`` (``flock``: the kernel
releases it when the process ends, however it ends), so a second run starts from the
first one's published database, as if they had been run one after the other.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines import cohort
from pipelines.db import RunError, connect

log = logging.getLogger("familyscreen")

POLL_SECONDS = 0.5


def working(db: Path) -> Path:
    """The run's own copy of ``db``, beside it (a rename needs the same filesystem)."""
    return db.with_name(db.name + ".running")


def failing(db: Path) -> Path:
    """The copy of ``db`` that records a failed run before it replaces ``db``."""
    return db.with_name(db.name + ".failing")


def lock_file(db: Path) -> Path:
    """Whose turn it is to run against ``db`` (see :func:`turn`)."""
    return db.with_name(db.name + ".lock")


def wal(path: Path) -> Path:
    """DuckDB's write-ahead log of ``path``: changes not yet in the file itself."""
    return path.with_name(path.name + ".wal")


def remove(path: Path) -> None:
    """``path`` and its write-ahead log gone: a stale log beside a new copy would be
    replayed into it."""
    for p in (path, wal(path)):
        p.unlink(missing_ok=True)


def settled(db: Path) -> None:
    """``db`` with nothing left in a write-ahead log, so that a copy of the file alone is
    the whole database. A log is left only by a program that wrote into the published
    file itself (an analyst's read-write connection, or a run of a version before
    snapshots that was killed); it is written in if nobody holds the file."""
    if not wal(db).exists():
        return
    try:
        duckdb.connect(str(db)).close()  # replays the log and writes it in
    except duckdb.Error as exc:
        raise RunError(f"{db} has changes of another program not yet saved ({wal(db).name}):"
                       " close the program that wrote to it, then run again") from exc


def copy(source: Path, target: Path) -> None:
    """``target`` a private copy of ``source`` (or absent if ``source`` is), any earlier
    ``target`` and its log removed first."""
    remove(target)
    if source.exists():
        settled(source)
        shutil.copyfile(source, target)
        target.chmod(0o600)  # personal data: readable by its owner only


def begin(db: Path) -> Path:
    """The working copy of ``db`` for a run, made afresh: whatever a killed run left beside
    ``db`` is removed here, so nothing needs clearing up by hand."""
    remove(failing(db))
    copy(db, working(db))
    return working(db)


def replace(source: Path, db: Path) -> None:
    """Publish ``source`` as ``db`` in one step. Its connections must be closed (DuckDB
    then writes the log into the file); written to disk before the rename and the
    folder's entry after, so that a power cut leaves the old database or the new one."""
    if wal(source).exists():
        raise RunError(f"{source} was not closed cleanly; {db} is unchanged")
    if wal(db).exists():
        raise RunError(f"{db} was written to by another program during the run "
                       f"({wal(db).name}); it is unchanged: close that program and run again")
    source.chmod(0o600)  # personal data: readable by its owner only
    sync(source)
    os.replace(source, db)
    sync(db.parent)


def sync(path: Path) -> None:
    """``path`` (a file, or a folder's entries) written through to disk."""
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def record_failure(db: Path, run_id: str, step: str, reason: str) -> None:
    """Publish the failed run's ``runs`` row (its step and reason) and nothing else of it:
    a copy of ``db`` gets the row from the working copy, then replaces ``db``. The working
    copy stays, with the failed run's tables, for a look until the next run."""
    with connect(working(db), read_only=True) as con:
        row = con.execute("select * from main.runs where run_id = $run_id",
                          {"run_id": run_id}).to_arrow_table()
    record = failing(db)
    copy(db, record)
    with connect(record) as con:
        cohort.ensure_schema(con)
        con.register("__failed_run", row)
        con.execute("""insert into main.runs by name
            select * replace ('failed' as status, $step as failed_step,
                $reason as failure_reason, now()::timestamp as finished_at)
            from __failed_run""", {"step": step, "reason": reason})
        con.unregister("__failed_run")
    replace(record, db)


@contextlib.contextmanager
def turn(db: Path, wait_minutes: float, holder: str) -> Iterator[None]:
    """Hold ``db``'s turn for the block, waiting up to ``wait_minutes`` for a run that has
    it. ``holder`` (a command and a time, no personal data) is written into the lock file
    for the message a waiting run gives."""
    db.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(lock_file(db), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not try_lock(fd):
            other = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another run"
            log.warning("waiting for %s to finish with %s (up to %g minutes)", other, db.name,
                        wait_minutes)
            deadline = time.monotonic() + wait_minutes * 60
            while not try_lock(fd):
                if time.monotonic() >= deadline:
                    raise RunError(f"{db} was still in use by {other} after {wait_minutes:g} "
                                   "minutes; this run did not start")
                time.sleep(POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def try_lock(fd: int, kind: int = fcntl.LOCK_EX) -> bool:
    """The lock on ``fd`` if nobody holds a conflicting one; never waits."""
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def in_progress(db: Path) -> str | None:
    """The run that has ``db``'s turn now, as it described itself; None when none has."""
    if not lock_file(db).exists():
        return None
    fd = os.open(lock_file(db), os.O_RDONLY)
    try:
        if try_lock(fd, fcntl.LOCK_SH):  # free: released when fd is closed
            return None
        return os.pread(fd, 200, 0).decode(errors="replace").strip() or "a run"
    finally:
        os.close(fd)


def holder_text(command: str) -> str:
    """What a waiting run is told about this one: command, process and start time."""
    return f"the {command} run of process {os.getpid()} (started " \
           f"{dt.datetime.now():%Y-%m-%d %H:%M:%S})"


@contextlib.contextmanager
def staged_outputs(out_dir: Path, run_id: str) -> Iterator[Path]:
    """A private folder beside ``out_dir`` to write a run's files in; they replace those
    in ``out_dir`` only when the block finishes without error, each by a rename (a
    folder of files, the evidence pack, replaces its old self whole), so a failed run
    leaves the previous outputs as they were. Readable by their owner only."""
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(out_dir, 0o700)
    tmp = out_dir / f".run-{run_id}"
    tmp.mkdir(mode=0o700)
    try:
        yield tmp
        for path in sorted(tmp.iterdir()):
            if path.is_dir():  # a folder of outputs (the evidence pack) replaces its old self
                for inner in path.rglob("*"):
                    os.chmod(inner, 0o600 if inner.is_file() else 0o700)
                os.chmod(path, 0o700)
                shutil.rmtree(out_dir / path.name, ignore_errors=True)
            else:
                os.chmod(path, 0o600)
            os.replace(path, out_dir / path.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
