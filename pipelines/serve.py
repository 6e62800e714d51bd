"""Local Prefect set-up in one command (``make serve``): a Prefect server on 127.0.0.1, the
``familyscreen`` process work pool, the deployments of ``prefect.yaml``, and a worker.

For an analyst trying the scheduled runs on one machine; a council's own Prefect server
takes the same ``prefect deploy --all`` and ``prefect worker start`` steps (README).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from pipelines import ROOT

PREFECT = str(Path(sys.executable).with_name("prefect"))
POOL = "familyscreen"


def environment(home: Path, port: int, data: Path) -> dict[str, str]:
    """Prefect's home and API address, and the data folder the deployments read."""
    return {**os.environ, "PREFECT_HOME": str(home),
            "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "false",
            "FAMILYSCREEN_DATA": str(data),
            "PWD": str(ROOT)}  # prefect.yaml's pull step runs flows from this checkout


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """Start ``prefect server`` on 127.0.0.1 and wait until it answers its health check."""
    with log.open("w") as out:
        server = subprocess.Popen(
            [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"prefect server stopped; see {log}")
        try:
            if httpx.get(f"{env['PREFECT_API_URL']}/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(1)
    stop(server)
    raise RuntimeError(f"prefect server did not start within 180 s; see {log}")


def stop(process: subprocess.Popen) -> None:
    """Stop a process we started, and everything it started."""
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)


def prefect(env: dict[str, str], *args: str) -> str:
    """Run a Prefect CLI command from the project folder; its output, or an error."""
    done = subprocess.run([PREFECT, "--no-prompt", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise RuntimeError(f"prefect {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def deploy(env: dict[str, str]) -> None:
    """Create the work pool (once) and register every deployment of prefect.yaml."""
    pools = prefect(env, "work-pool", "ls")
    if POOL not in pools:
        prefect(env, "work-pool", "create", POOL, "--type", "process")
    prefect(env, "deploy", "--all")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=4200)
    p.add_argument("--data", type=Path, default=ROOT / "serve",
                   help="folder with extracts/ (the sample is copied there if empty) and out/")
    args = p.parse_args()
    data = args.data.resolve()
    if not (data / "extracts").exists():
        shutil.copytree(ROOT / "data" / "sample", data / "extracts")
    env = environment(ROOT / ".prefect", args.port, data)
    server = start_server(env, args.port, data / "prefect-server.log")
    try:
        deploy(env)
        print(f"Prefect server: http://127.0.0.1:{args.port} (API {env['PREFECT_API_URL']})\n"
              f"Deployments registered; data in {data}. Trigger a run from another terminal:\n"
              f"  PREFECT_API_URL={env['PREFECT_API_URL']} {PREFECT} deployment run "
              "'screen/monthly-screening' --param as_of=2025-09-30\n"
              "Starting a worker (Ctrl-C stops the worker and the server).", flush=True)
        subprocess.run([PREFECT, "worker", "start", "--pool", POOL], env=env, cwd=ROOT,
                       check=False)
    except KeyboardInterrupt:
        pass
    finally:
        stop(server)


if __name__ == "__main__":
    main()
