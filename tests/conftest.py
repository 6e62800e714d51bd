"""Shared fixtures: Prefect kept in a temporary home, and extract folders built in tests."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Before Prefect is imported anywhere: its home, database and logs in a temporary folder.
_PREFECT_HOME = tempfile.mkdtemp(prefix="familyscreen-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

from tests.build import Extracts  # noqa: E402


@pytest.fixture
def extracts(tmp_path: Path) -> Extracts:
    """An extracts folder with every required file present (header only until filled)."""
    return Extracts(tmp_path / "extracts")


@pytest.fixture
def prefect_home() -> Path:
    return Path(_PREFECT_HOME)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules that run flows through the real Prefect engine (a server, workers, the
    command as a subprocess) take a minute or more each and cannot be split between
    pytest-xdist's workers (``--dist loadscope`` keeps a module's fixtures in one): they
    go first, so the quick modules even the two workers out at the end."""
    engine_modules = {item.module.__name__ for item in items
                      if item.get_closest_marker("engine")}
    items.sort(key=lambda item: item.module.__name__ not in engine_modules)
