"""Analysts read while the schedule writes (issue 24): a reader never stops a run, sees
whole runs only, runs of one database take turns, and a run killed anywhere leaves the
published database as it was."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from pipelines import ROOT, cli, flows, publish
from pipelines.db import RunError
from synthetic import claims
from synthetic.borough import generate as generate_borough
from tests.build import AS_OF

CLAIMS_AS_OF = dt.date(2026, 7, 31)

# A run in a child process, paused (and announced on stdout) where the test kills it.
CHILD = r"""
import os, sys, time
from pipelines import cli, cohort, flows, households, link, publish, runs

command, extracts, out, as_of, kill_at = sys.argv[1:6]
cli.show_progress()


def pause_before(module, name, where, when=lambda *a: True):
    original = getattr(module, name)

    def paused(*args, **kwargs):
        if when(*args):
            print(where, flush=True)
            time.sleep(600)
        return original(*args, **kwargs)
    setattr(module, name, paused)


def fail(*args):
    raise RuntimeError("households could not be formed")


def hold(module, name, go):
    original = getattr(module, name)

    def held(*args, **kwargs):
        print("holding", flush=True)
        while not os.path.exists(go):
            time.sleep(0.1)
        return original(*args, **kwargs)
    setattr(module, name, held)


if kill_at.startswith("hold:"):  # the run waits in its link step for the file named
    hold(link, "link", kill_at[5:])
elif kill_at == "copy":  # the working copy made, the run not yet recorded in it
    pause_before(runs, "connect", "copy")
elif kill_at == "link":
    pause_before(link, "link", "link")
elif kill_at == "transaction":  # the history appended, not committed
    pause_before(cohort, "cohort_view_sql", "transaction")
elif kill_at == "rename":  # the working copy closed and complete, about to replace
    pause_before(publish, "sync", "rename", lambda p: p.name.endswith(".running"))
elif kill_at == "failure":  # a failed run's record about to replace the database
    households.form_households = fail
    pause_before(publish, "sync", "failure", lambda p: p.name.endswith(".failing"))
getattr(flows, command).fn(extracts=extracts, out=out, as_of=as_of, wait_minutes=5)
print("done", flush=True)
"""

READER = r"""
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
for _ in sys.stdin:
    print(*con.execute("select count(*), max(run_id) from runs").fetchone(), flush=True)
"""


def child(command: str, extracts: Path, out: Path, as_of: dt.date, kill_at: str = "none"
          ) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, command, str(extracts), str(out),
                             as_of.isoformat(), kill_at], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def runs_of(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("""select run_id, command, as_of_date, status, failed_step
            from runs order by started_at, run_id""").fetchall()


@pytest.fixture(scope="module")
def borough(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("borough")
    generate_borough(folder / "extracts", households=40, seed=24, as_of=AS_OF, noise=1)
    return folder / "extracts"


@pytest.fixture(scope="module")
def screened(borough, tmp_path_factory) -> Path:
    """A database of one screening run of the borough."""
    out = tmp_path_factory.mktemp("screened")
    flows.screen.fn(extracts=str(borough), out=str(out), as_of=AS_OF.isoformat())
    return out / "familyscreen.duckdb"


def test_a_reader_held_open_across_ten_runs_stops_none_and_sees_whole_runs(borough, tmp_path):
    out = tmp_path / "out"
    db = out / "familyscreen.duckdb"
    flows.screen.fn(extracts=str(borough), out=str(out), as_of=AS_OF.isoformat())
    reader = subprocess.Popen([sys.executable, "-c", READER, str(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        def held() -> str:
            reader.stdin.write("?\n")
            reader.stdin.flush()
            return reader.stdout.readline().split()

        first = held()
        assert first[0] == "1"
        for month in range(1, 11):
            as_of = AS_OF + dt.timedelta(days=month)
            counts = flows.screen.fn(extracts=str(borough), out=str(out),
                                     as_of=as_of.isoformat())
            assert counts["cohort"] > 0
            assert held() == first  # the open connection keeps the snapshot it opened
            history = runs_of(db)  # a reader connecting now sees the new run, whole
            assert [r[3] for r in history] == ["succeeded"] * (month + 1)
            with duckdb.connect(str(db), read_only=True) as con:
                latest = con.execute("select run_id, as_of_date from latest_screen_run"
                                     ).fetchone()
                assert latest == (history[-1][0], as_of)
                assert con.execute("select count(distinct run_id), min(run_id) from cohort"
                                   ).fetchone() == (1, latest[0])
    finally:
        reader.kill()
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("familyscreen")) == \
        ["familyscreen.duckdb", "familyscreen.duckdb.lock"]


def test_a_program_holding_the_database_open_for_writing_stops_no_run(borough, tmp_path):
    """DBeaver opens DuckDB files read-write unless told otherwise."""
    db = tmp_path / "familyscreen.duckdb"
    flows.screen.fn(extracts=str(borough), out=str(tmp_path), as_of=AS_OF.isoformat())
    holder = subprocess.Popen([sys.executable, "-c",
                               "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); time.sleep(60)", str(db)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        flows.screen.fn(extracts=str(borough), out=str(tmp_path),
                        as_of=(AS_OF + dt.timedelta(days=1)).isoformat())
    finally:
        holder.kill()
    assert [r[3] for r in runs_of(db)] == ["succeeded", "succeeded"]


def test_a_run_that_writes_into_the_published_file_meanwhile_is_refused(screened, tmp_path):
    """Changes another program left in the published file's log would be replayed into the
    new snapshot: the run stops and the database is left with them."""
    db = tmp_path / "familyscreen.duckdb"
    shutil.copy(screened, db)
    working = publish.begin(db)
    with duckdb.connect(str(db)) as con:
        con.execute("create table mine as select 1 as x")
        with pytest.raises(RunError, match="written to by another program"):
            publish.replace(working, db)
        assert con.execute("select x from mine").fetchone() == (1,)


def test_changes_left_in_the_log_are_written_in_before_a_copy(screened, tmp_path):
    db = tmp_path / "familyscreen.duckdb"
    shutil.copy(screened, db)
    con = duckdb.connect(str(db))
    con.execute("create table mine as select 1 as x")
    shutil.copy(db, tmp_path / "crashed.duckdb")  # as if the writer had been killed
    shutil.copy(publish.wal(db), publish.wal(tmp_path / "crashed.duckdb"))
    con.close()
    working = publish.begin(tmp_path / "crashed.duckdb")
    with duckdb.connect(str(working), read_only=True) as copy:
        assert copy.execute("select x from mine").fetchone() == (1,)


def test_a_second_run_waits_with_a_message_and_gives_up_in_one_line(borough, tmp_path,
                                                                     capsys):
    db = tmp_path / "out" / "familyscreen.duckdb"
    with publish.turn(db, 1, publish.holder_text("screen")):
        code = cli.main(["screen", "--extracts", str(borough), "--as-of", "2025-09-30",
                         "--out", str(tmp_path / "out"), "--wait", "0.02"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert any(line.startswith("familyscreen: waiting for the screen run of process "
                               f"{os.getpid()}") for line in err)
    assert err[-1].startswith(f"familyscreen: {db} was still in use by the screen run of "
                              f"process {os.getpid()}")
    assert err[-1].endswith("after 0.02 minutes; this run did not start")
    assert not db.exists()


def test_the_turn_waits_for_the_holder_then_is_taken(tmp_path):
    db = tmp_path / "familyscreen.duckdb"
    order = []
    released = threading.Event()

    def second() -> None:
        with publish.turn(db, 1, "second"):
            order.append("second")

    with publish.turn(db, 1, "first"):
        waiter = threading.Thread(target=second)
        waiter.start()
        waiter.join(1.5)
        assert waiter.is_alive() and order == []
        order.append("first")
        released.set()
    waiter.join(10)
    assert order == ["first", "second"]


def test_screening_and_claims_started_together_run_one_after_the_other(borough, screened,
                                                                       tmp_path):
    """Both succeed; the second waits for the first and gives the outputs it gives when
    run after it by hand."""
    claims_extracts = tmp_path / "claims"
    claims.generate_claims(borough, screened, claims_extracts, CLAIMS_AS_OF, seed=3)
    october = AS_OF + dt.timedelta(days=31)
    together, alone = tmp_path / "together", tmp_path / "alone"
    for out in (together, alone):
        out.mkdir()
        shutil.copy(screened, out / "familyscreen.duckdb")

    go = tmp_path / "go"
    screening = child("screen", borough, together, october, f"hold:{go}")
    assert screening.stdout.readline().strip() == "holding", screening.stderr.read()[-2000:]
    claiming = child("claims", claims_extracts, together, CLAIMS_AS_OF)
    assert claiming.stderr.readline().startswith(
        f"familyscreen: waiting for the screen run of process {screening.pid}")
    go.touch()
    for proc in (screening, claiming):
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0 and stdout.strip() == "done", stderr[-2000:]

    flows.screen.fn(extracts=str(borough), out=str(alone), as_of=october.isoformat())
    flows.claims.fn(extracts=str(claims_extracts), out=str(alone),
                    as_of=CLAIMS_AS_OF.isoformat())
    for name in ("cohort_families.csv", "cohort_members.csv", "pbr_candidates.csv",
                 "rejects.csv"):
        assert (together / name).read_bytes() == (alone / name).read_bytes(), name
    with duckdb.connect(str(together / "familyscreen.duckdb"), read_only=True) as con:
        (screen_done, claims_started), = con.execute("""select
            max(finished_at) filter (where command = 'screen'),
            max(started_at) filter (where command = 'claims') from runs""").fetchall()
    assert claims_started >= screen_done.replace(microsecond=0)  # started_at is in seconds
    tables = ("cohort_history", "persons_history", "pbr_candidates_history")
    summary = []
    for out in (together, alone):
        with duckdb.connect(str(out / "familyscreen.duckdb"), read_only=True) as con:
            summary.append([con.execute(f"""select r.command, r.as_of_date, r.status,
                (select count(*) from {t} as h where h.run_id = r.run_id)
                from runs as r order by r.started_at""").fetchall() for t in tables])
    assert summary[0] == summary[1]
    assert [row[:3] for row in summary[0][0]] == [
        ("screen", AS_OF, "succeeded"), ("screen", october, "succeeded"),
        ("claims", CLAIMS_AS_OF, "succeeded")]


@pytest.mark.parametrize("kill_at", ["copy", "link", "transaction", "rename", "failure"])
def test_a_run_killed_anywhere_leaves_the_database_as_it_was(kill_at, borough, screened,
                                                             tmp_path):
    db = tmp_path / "familyscreen.duckdb"
    shutil.copy(screened, db)
    before, history = sha256(db), runs_of(db)
    proc = child("screen", borough, tmp_path, AS_OF + dt.timedelta(days=1), kill_at)
    try:
        assert proc.stdout.readline().strip() == kill_at, proc.stderr.read()[-2000:]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert sha256(db) == before and runs_of(db) == history
    assert publish.working(db).exists()  # what the killed run left; nobody clears it up

    flows.screen.fn(extracts=str(borough), out=str(tmp_path),
                    as_of=(AS_OF + dt.timedelta(days=2)).isoformat())
    after = runs_of(db)
    assert after[:-1] == history and after[-1][1:4] == ("screen", AS_OF + dt.timedelta(days=2),
                                                         "succeeded")
    assert not publish.working(db).exists() and not publish.failing(db).exists()


def test_a_failed_run_publishes_its_step_and_reason_and_nothing_else(borough, screened,
                                                                     tmp_path):
    db = tmp_path / "familyscreen.duckdb"
    shutil.copy(screened, db)
    with duckdb.connect(str(db), read_only=True) as con:
        cohort_before = con.execute("select * from cohort order by family_id").fetchall()
    failing_code = r"""
import sys
from pipelines import flows, households
def fail(*args):
    raise RuntimeError("households could not be formed")
households.form_households = fail
flows.screen.fn(extracts=sys.argv[1], out=sys.argv[2], as_of=sys.argv[3])
"""
    done = subprocess.run([sys.executable, "-c", failing_code, str(borough), str(tmp_path),
                           (AS_OF + dt.timedelta(days=1)).isoformat()], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "households could not be formed" in done.stderr
    history = runs_of(db)
    assert [r[3:] for r in history][-1] == ("failed", "households")
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select * from cohort order by family_id").fetchall() == \
            cohort_before
        assert con.execute("select failure_reason from runs where status = 'failed'"
                           ).fetchone() == ("households could not be formed",)
    assert oct(db.stat().st_mode & 0o777) == "0o600"


def test_runs_lists_finished_runs_and_names_the_one_in_progress(screened, capsys):
    assert cli.main(["runs", "--db", str(screened)]) == 0
    assert "in progress" not in capsys.readouterr().out
    with publish.turn(screened, 1, publish.holder_text("claims")):
        assert cli.main(["runs", "--db", str(screened)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and " succeeded " in lines[1]
    assert lines[2].startswith("in progress (listed when it ends): the claims run of process "
                               f"{os.getpid()} (started ")


def test_the_concurrency_limit_is_one_per_database_however_its_path_is_written(tmp_path,
                                                                               monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    name = flows.limit_name(Path("out/familyscreen.duckdb"))
    assert name == flows.limit_name(tmp_path / "out" / ".." / "out" / "familyscreen.duckdb")
    assert name != flows.limit_name(tmp_path / "other" / "familyscreen.duckdb")
    assert name.startswith("familyscreen-db-") and "/" not in name
