"""Households: where each person lives, and the people at one address as a family.

1. ``address_matches``: every address written in a person record resolved to the
   gazetteer's property (method, the gazetteer's address) or why none;
   ``address_review`` lists the unresolved ones with the properties they could be.
2. ``person_addresses``: each person's current address, the household it puts them in
   and how that was decided (``placed_by``); ``persons`` joins it to their identity.
3. ``family_ids``, ``family_members``, ``families``: a family is the household, the
   people who live at one address on the as-of date (rules.md). Family ids persist
   across runs while membership is substantially the same (previous members followed
   through ``person_lineage``); a merge keeps the oldest id, a split leaves it with the
   larger part, and ``family_lineage`` records what became of every id, and why.
"""

from __future__ import annotations

import duckdb

from pipelines.db import run_steps
from pipelines.link import next_number

# "Substantially the same" membership: shared members / members of either run.
MIN_FAMILY_OVERLAP = 0.5

STEPS = ["households/address_matches", "households/address_review",
         "households/person_addresses", "households/persons", "households/family_overlaps",
         "households/family_successors", "households/family_ids", "households/family_lineage",
         "households/family_members", "households/families"]


def form_households(con: duckdb.DuckDBPyConnection, previous_run_id: str | None
                    ) -> dict[str, int]:
    """Place persons at their current address and group them into families with stable
    ids."""
    params = {
        "previous_run_id": previous_run_id,
        "min_family_overlap": MIN_FAMILY_OVERLAP,
        "next_family_number": next_number(con, "families_history", "family_id"),
    }
    return run_steps(con, STEPS, params)
