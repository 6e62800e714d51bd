"""A region: every authority's screening at one as-of date, one deployment run each.

Grain: one authority per folder of the region, ``<region>/<authority>/extracts/`` in,
``<region>/<authority>/out/`` (its outputs and its own database) out. Nothing is shared
between authorities: screening, households and criteria are per council, so the runs are
independent and as many go at once as the work pool has worker slots (a worker per
machine, one run each: a run's DuckDB takes 40% of its machine's memory).

The region's own flow (:func:`pipelines.flows.screen_region`) only triggers the runs and
waits for them; it runs where it is started, against the Prefect server in
``PREFECT_API_URL`` whose workers do the screening.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pipelines.db import RunError

# A folder name is all a region's parameters, logs and artifact say of an authority.
_AUTHORITY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")


def authorities(region: Path) -> list[Path]:
    """The region's authority folders (those holding ``extracts/``), in name order."""
    if not region.is_dir():
        raise RunError(f"{region}: region folder not found")
    found = sorted(p for p in region.iterdir() if (p / "extracts").is_dir())
    if not found:
        raise RunError(f"{region}: no authority folders (each <authority>/extracts/)")
    for path in found:
        if not _AUTHORITY.match(path.name):
            raise RunError(f"{path}: an authority's folder name is letters, digits, spaces, "
                           "dots, dashes and underscores")
    return found


def parameters(authority: Path, as_of: str, criteria_file: str | None) -> dict[str, str]:
    """One authority's screening parameters: its own folders (absolute: the worker runs
    elsewhere), the region's as-of date and, when given, the region's rule set."""
    params = {"extracts": str((authority / "extracts").resolve()),
              "out": str((authority / "out").resolve()), "as_of": as_of}
    if criteria_file:
        params["criteria_file"] = str(Path(criteria_file).resolve())
    return params


def require_server() -> None:
    """Deployment runs are picked up by the workers of a Prefect server; without one,
    Prefect would start a temporary server that no worker polls, and the region would
    wait for ever."""
    if not os.environ.get("PREFECT_API_URL"):
        raise RunError("screen-region triggers runs for a Prefect server's workers: set "
                       "PREFECT_API_URL (e.g. http://127.0.0.1:4200/api, as `make serve` "
                       "prints)")


def summary_markdown(as_of: str, states: dict[str, str]) -> str:
    """The region run's artifact: each authority's final state (no personal data)."""
    lines = [f"# Region screening as at {as_of}", "", "| Authority | Run |", "|---|---|"]
    lines += [f"| {name} | {state} |" for name, state in states.items()]
    return "\n".join(lines) + "\n"
