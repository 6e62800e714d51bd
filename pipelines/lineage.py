"""Ids from run to run: how many person and family ids this run carried, gave new, split
off, merged or retired (``person_lineage`` and ``family_lineage``, built by the link and
households steps), for the manifest, the report and the run summary. Counts only: no id
leaves the database.
"""

from __future__ import annotations

import duckdb

from pipelines.db import WORK

EVENTS = ("carried", "new", "split", "merged", "retired")


def id_changes(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """``persons_carried`` … ``families_retired`` (every event, zeros included) and
    ``members_new_to_family``, the cohort's members not in their family in the compared
    run."""
    counts = {f"{kind}_{event}": 0 for kind in ("persons", "families") for event in EVENTS}
    for kind, table in (("persons", "person_lineage"), ("families", "family_lineage")):
        for event, n in con.execute(
                f"select event, count(*) from {WORK}.{table} group by event").fetchall():
            counts[f"{kind}_{event}"] = n
    (counts["members_new_to_family"],) = con.execute(
        f"select count(*) from {WORK}.cohort_members where is_new_to_family").fetchone()
    return counts


def summary_line(ids: dict[str, int]) -> str:
    """:func:`id_changes` in one sentence, for the run summary."""
    people, families = ({e: ids[f"{kind}_{e}"] for e in EVENTS} for kind in ("persons", "families"))
    return (f"Ids against the previous run: people {people['carried']} kept, {people['new']} new, "
            f"{people['split']} split off, {people['merged']} merged, {people['retired']} "
            f"retired; families {families['carried']} kept, {families['new']} new, "
            f"{families['split']} split off, {families['merged']} merged, "
            f"{families['retired']} retired; {ids['members_new_to_family']} cohort members "
            "new to their family (person_lineage, family_lineage).")
