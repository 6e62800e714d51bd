"""``make serve`` (pipelines.serve) stops everything it started, on SIGTERM as on Ctrl-C:
started for real, stopped by a signal, and no process of its tree left."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines import ROOT, serve
from tests.test_prefect_server import free_port


def wait_for_line(process: subprocess.Popen, text: str, seconds: float) -> None:
    """Read the process's output until a line holds ``text``."""
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        if selector.select(timeout=1):
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            if text in line:
                return
    raise AssertionError(f"no line with {text!r}: {''.join(seen)[-2000:]}")


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@pytest.mark.engine
@pytest.mark.parametrize("stopped_by", ["SIGTERM", "Ctrl-C"])
def test_serve_stops_its_server_and_worker(tmp_path, stopped_by):
    (tmp_path / "data" / "extracts").mkdir(parents=True)  # an empty folder: no sample copy
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.serve", "--port", str(free_port()),
         "--data", str(tmp_path / "data"), "--prefect-home", str(tmp_path / "prefect")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)  # its own process group, as a terminal's foreground job
    try:
        wait_for_line(process, "Starting a worker", 300)
        deadline = time.monotonic() + 120
        while not any(b"worker" in cmdline(pid) for pid in serve.descendants(process.pid)):
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.5)
        tree = serve.descendants(process.pid)
        assert len(tree) >= 2  # the server and the worker, and what they started
        if stopped_by == "SIGTERM":
            os.kill(process.pid, signal.SIGTERM)
        else:
            os.killpg(process.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
        assert process.wait(timeout=120) == 0
        left = [pid for pid, started in tree.items() if serve.running(pid, started)]
        assert left == []
    finally:
        if process.poll() is None:
            serve.stop(process)
