"""The scheduled deployment on a real Prefect server: deploy from prefect.yaml, trigger
runs through the CLI, let process workers run them, check they completed and what they
wrote; everything started is stopped."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import subprocess
import sys

import httpx
import pytest

from pipelines import ROOT, serve


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """A Prefect server on a free port with the deployments of prefect.yaml: (its
    environment, the data folder its monthly screening reads)."""
    home = tmp_path_factory.mktemp("prefect-server")
    data = home / "data"
    shutil.copytree(ROOT / "data" / "sample", data / "extracts")
    port = free_port()
    env = serve.environment(home / "prefect", port, data)
    server = serve.start_server(env, port, home / "server.log")
    try:
        serve.deploy(env)
        yield env, data
    finally:
        serve.stop(server)
    assert server.poll() is not None


def flow_runs(env: dict[str, str]) -> list[dict]:
    return httpx.post(f"{env['PREFECT_API_URL']}/flow_runs/filter", json={},
                      timeout=30).json()


@pytest.mark.engine
def test_deployment_runs_on_a_real_prefect_server(prefect_server):
    env, data = prefect_server
    serve.prefect(env, "deployment", "run", "screen/monthly-screening",
                  "--param", "as_of=2025-09-30")
    worker = subprocess.run(
        [serve.PREFECT, "worker", "start", "--pool", serve.POOL, "--run-once"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert worker.returncode == 0, worker.stderr[-2000:]
    runs = flow_runs(env)
    screening = [r for r in runs if r["parameters"].get("as_of") == "2025-09-30"
                 and r["parameters"].get("out") == str(data / "out")]
    assert [r["state_type"] for r in screening] == ["COMPLETED"], json.dumps(runs)[:2000]
    manifest = json.loads((data / "out" / "run_manifest.json").read_text())
    assert manifest["as_of"] == "2025-09-30" and manifest["counts"]["cohort"] == 72


def started_ended(run: dict) -> tuple[dt.datetime, dt.datetime]:
    return (dt.datetime.fromisoformat(run["start_time"]),
            dt.datetime.fromisoformat(run["end_time"]))


@pytest.mark.engine
def test_a_region_screens_its_authorities_in_parallel_on_two_workers_and_names_a_failure(
        prefect_server, tmp_path):
    """One run per authority, as the region's subflows, at the region's as-of date, shared
    by two workers of one work pool (as two machines of a regional hub would be, one run
    each): both take runs and two authorities' runs are under way at once. An authority whose
    extracts are missing fails alone, and the region names it."""
    env, _ = prefect_server
    region = tmp_path / "region"
    for name in ("halton", "wirral"):
        shutil.copytree(ROOT / "data" / "sample", region / name / "extracts")
    (region / "sefton" / "extracts").mkdir(parents=True)  # nothing supplied yet
    polling = env | {"PREFECT_WORKER_QUERY_SECONDS": "1"}
    workers = [subprocess.Popen(
        [serve.PREFECT, "worker", "start", "--pool", serve.POOL, "--limit", "1",
         "--name", name], env=polling, cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True) for name in ("hub-a", "hub-b")]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "screen-region", "--region", str(region),
             "--as-of", "2025-09-30"],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    finally:
        for worker in workers:
            serve.stop(worker)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.strip().endswith(
        "familyscreen: 1 of 3 authorities did not complete: sefton (failed)"), done.stderr
    for name in ("halton", "wirral"):
        manifest = json.loads((region / name / "out" / "run_manifest.json").read_text())
        assert manifest["as_of"] == "2025-09-30" and manifest["counts"]["cohort"] == 72
    runs = {r["name"]: r for r in flow_runs(env)}
    mine = {name: runs[f"{name} 2025-09-30"] for name in ("halton", "sefton", "wirral")}
    assert {name: run["state_type"] for name, run in mine.items()} == {
        "halton": "COMPLETED", "sefton": "FAILED", "wirral": "COMPLETED"}
    assert all(run["parent_task_run_id"] for run in mine.values())
    assert {run["labels"]["prefect.worker.name"] for run in mine.values()} \
        == {"hub-a", "hub-b"}
    # Which two overlap depends on which worker takes the quickly failing run first.
    spans = [started_ended(run) for run in mine.values()]
    assert any(a_start < b_end and b_start < a_end
               for i, (a_start, a_end) in enumerate(spans)
               for b_start, b_end in spans[i + 1:]), "the authorities ran one after another"


@pytest.mark.engine
def test_two_runs_of_one_database_on_the_workers_take_turns(prefect_server):
    """Two screenings of one database triggered together on a worker that could run both
    at once: the database's concurrency limit (one slot) runs them one after the other."""
    import time

    import duckdb

    from pipelines import flows

    env, data = prefect_server
    days = ("2025-10-30", "2025-10-31")
    for day in days:
        serve.prefect(env, "deployment", "run", "screen/monthly-screening",
                      "--param", f"as_of={day}")
    worker = subprocess.Popen(
        [serve.PREFECT, "worker", "start", "--pool", serve.POOL, "--limit", "2"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while True:
            states = [r["state_type"] for r in flow_runs(env)
                      if r["parameters"].get("as_of") in days]
            if len(states) == 2 and all(s in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")
                                        for s in states):
                break
            assert time.monotonic() < deadline, states
            time.sleep(2)
    finally:
        serve.stop(worker)
    assert states == ["COMPLETED", "COMPLETED"]
    db = data / "out" / "familyscreen.duckdb"
    limits = httpx.post(f"{env['PREFECT_API_URL']}/v2/concurrency_limits/filter", json={},
                        timeout=30).json()
    assert [(x["limit"], x["active_slots"]) for x in limits
            if x["name"] == flows.limit_name(db)] == [(1, 0)]
    with duckdb.connect(str(db), read_only=True) as con:
        (first, second), = con.execute("""select
            min(finished_at), max(started_at) from runs
            where as_of_date in ('2025-10-30', '2025-10-31') and status = 'succeeded'
            having count(*) = 2""").fetchall()
    assert second >= first.replace(microsecond=0)
