"""Households: persons at one current address → ``families`` and ``family_members``.

A family is the household: the people who live at one address on the as-of date
(rules.md). Family ids persist across runs while membership is substantially the same.
"""

from __future__ import annotations

import duckdb

from pipelines.db import run_steps
from pipelines.link import next_number

# "Substantially the same" membership: shared members / members of either run.
MIN_FAMILY_OVERLAP = 0.5

STEPS = ["households/family_ids", "households/family_members", "households/families"]


def form_households(con: duckdb.DuckDBPyConnection, previous_run_id: str | None
                    ) -> dict[str, int]:
    """Group persons by current address into families with stable ids."""
    params = {
        "previous_run_id": previous_run_id,
        "min_family_overlap": MIN_FAMILY_OVERLAP,
        "next_family_number": next_number(con, "families_history", "family_id"),
    }
    return run_steps(con, STEPS, params)
