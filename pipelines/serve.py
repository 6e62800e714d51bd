"""Local Prefect set-up in one command (``make serve``): a Prefect server on 127.0.0.1, the
``familyscreen`` process work pool, the deployments of ``prefect.yaml``, and a worker.

For an analyst trying the scheduled runs on one machine; a council's own Prefect server
takes the same ``prefect deploy --all`` and ``prefect worker start`` steps (README).

Ctrl-C or SIGTERM stops everything it started: the server, the worker and the flow runs
the worker started (each in a session of its own, so that a terminal's Ctrl-C reaches
this process alone and it stops them in order): SIGTERM to every process of the tree,
then, for those still running after a grace period, SIGKILL.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from pipelines import ROOT

PREFECT = str(Path(sys.executable).with_name("prefect"))
POOL = "familyscreen"
GRACE_SECONDS = 10


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
    try:
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
        raise RuntimeError(f"prefect server did not start within 180 s; see {log}")
    except BaseException:  # a timeout, Ctrl-C or SIGTERM while waiting
        stop(server)
        raise


def process_stat(pid: int) -> tuple[int, int, str] | None:
    """(parent, start time, state) of a process from /proc; None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[19]), fields[0]


def descendants(pid: int) -> dict[int, int]:
    """Every process started from ``pid``, however deep and in whatever session, with
    its start time (a pid is only ours while its start time is the same). Linux's /proc;
    none where there is no /proc."""
    children: dict[int, list[tuple[int, int]]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        stat = process_stat(int(entry.name))
        if stat:
            children.setdefault(stat[0], []).append((int(entry.name), stat[1]))
    found: dict[int, int] = {}
    todo = [pid]
    while todo:
        for child, started in children.get(todo.pop(), []):
            found[child] = started
            todo.append(child)
    return found


def running(pid: int, started: int) -> bool:
    """Whether the process ``pid`` that started at ``started`` still runs (a zombie, ended
    but not yet reaped, does not)."""
    stat = process_stat(pid)
    return stat is not None and stat[1] == started and stat[2] != "Z"


def signal_all(tree: dict[int, int], signum: int) -> None:
    for pid, started in tree.items():
        if running(pid, started):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)


def stop(process: subprocess.Popen) -> None:
    """Stop a process we started and everything it started: SIGTERM to all, SIGKILL to
    any still running after ``GRACE_SECONDS``."""
    tree = descendants(process.pid)
    if process.poll() is None:
        process.terminate()
    signal_all(tree, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline and (
            process.poll() is None or any(running(*p) for p in tree.items())):
        time.sleep(0.2)
    if process.poll() is None:
        tree |= descendants(process.pid)
        process.kill()
    signal_all(tree, signal.SIGKILL)
    process.wait()


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


def stop_on_sigterm() -> None:
    """SIGTERM (a service manager, ``kill``) stops the set-up as Ctrl-C does."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupt)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=4200)
    p.add_argument("--data", type=Path, default=ROOT / "serve",
                   help="folder with extracts/ (the sample is copied there if empty) and out/")
    p.add_argument("--prefect-home", type=Path, default=ROOT / ".prefect",
                   help="Prefect's home: its database and settings (default: %(default)s)")
    args = p.parse_args()
    stop_on_sigterm()
    data = args.data.resolve()
    if not (data / "extracts").exists():
        shutil.copytree(ROOT / "data" / "sample", data / "extracts")
    env = environment(args.prefect_home.resolve(), args.port, data)
    started: list[subprocess.Popen] = []
    try:
        started.append(start_server(env, args.port, data / "prefect-server.log"))
        deploy(env)
        print(f"Prefect server: http://127.0.0.1:{args.port} (API {env['PREFECT_API_URL']})\n"
              f"Deployments registered; data in {data}. Trigger a run from another terminal:\n"
              f"  PREFECT_API_URL={env['PREFECT_API_URL']} {PREFECT} deployment run "
              "'screen/monthly-screening' --param as_of=2025-09-30\n"
              "Starting a worker (Ctrl-C stops the worker and the server).", flush=True)
        started.append(subprocess.Popen([PREFECT, "worker", "start", "--pool", POOL],
                                        env=env, cwd=ROOT, start_new_session=True))
        started[-1].wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C cannot cut this short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for process in reversed(started):
            stop(process)


if __name__ == "__main__":
    main()
