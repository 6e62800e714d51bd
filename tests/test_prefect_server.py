"""The scheduled deployment on a real Prefect server: deploy from prefect.yaml, trigger a
run through the CLI, let a process worker run it, check it completed and what it wrote;
everything started is stopped."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess

import httpx
import pytest

from pipelines import ROOT, serve


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.engine
def test_deployment_runs_on_a_real_prefect_server(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "sample", data / "extracts")
    port = free_port()
    env = serve.environment(tmp_path / "prefect", port, data)
    server = serve.start_server(env, port, tmp_path / "server.log")
    try:
        serve.deploy(env)
        serve.prefect(env, "deployment", "run", "screen/monthly-screening",
                      "--param", "as_of=2025-09-30")
        worker = subprocess.run(
            [serve.PREFECT, "worker", "start", "--pool", serve.POOL, "--run-once"],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert worker.returncode == 0, worker.stderr[-2000:]
        runs = httpx.post(f"{env['PREFECT_API_URL']}/flow_runs/filter", json={},
                          timeout=30).json()
        screening = [r for r in runs if r["parameters"].get("as_of") == "2025-09-30"]
        assert [r["state_type"] for r in screening] == ["COMPLETED"], json.dumps(runs)[:2000]
    finally:
        serve.stop(server)
    assert server.poll() is not None
    manifest = json.loads((data / "out" / "run_manifest.json").read_text())
    assert manifest["as_of"] == "2025-09-30" and manifest["counts"]["cohort"] == 72
