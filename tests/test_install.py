"""The locked install: ``uv.lock`` matches ``pyproject.toml`` (what ``make setup``
installs with ``uv sync --locked``), and pins what Prefect 3.8 needs at run time."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from pipelines import ROOT

UV = Path(sys.executable).with_name("uv")  # make setup installs it into the venv


def test_the_lock_matches_pyproject():
    done = subprocess.run([str(UV), "lock", "--check", "--offline"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"})
    assert done.returncode == 0, done.stderr


def test_the_lock_keeps_prefect_3_8_with_what_it_runs_with():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    versions = {p["name"]: tuple(int(x) for x in p["version"].split(".")[:2])
                for p in lock["package"]}
    assert versions["prefect"] == (3, 8)
    assert versions["fastapi"] < (0, 151)
    assert versions["sqlalchemy"] < (2, 1)
