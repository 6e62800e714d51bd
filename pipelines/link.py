"""Link: person records → persons (``person_records``, ``persons``, ``person_keys``).

Deterministic passes (``sql/link/link_edges.sql``) give pairs of records that are one
person; connected components of those pairs are the persons. Ids persist across runs
(``sql/link/person_ids.sql``). Probabilistic linkage slots in as further edges with
their own ``match_method`` and a score below 1.
"""

from __future__ import annotations

import duckdb

from pipelines.db import WORK, run_steps

MAX_ITERATIONS = 100


def connected_components(con: duckdb.DuckDBPyConnection) -> int:
    """``link_clusters``: one row per record with the smallest record_id of its component.

    Label propagation in SQL: each round every record takes the smallest label among
    itself and its neighbours, until nothing changes.
    """
    con.execute(f"""create or replace table {WORK}.link_clusters as
        select record_id, record_id as cluster_id from {WORK}.std_person_records""")
    for _ in range(MAX_ITERATIONS):
        con.execute(f"""create or replace table {WORK}.link_clusters_next as
            select c.record_id, least(c.cluster_id, min(n.cluster_id)) as cluster_id
            from {WORK}.link_clusters as c
            left join {WORK}.link_edges as e on e.record_id_l = c.record_id
            left join {WORK}.link_clusters as n on n.record_id = e.record_id_r
            group by c.record_id, c.cluster_id""")
        (changed,) = con.execute(f"""select count(*) from {WORK}.link_clusters as c
            join {WORK}.link_clusters_next as x using (record_id)
            where c.cluster_id <> x.cluster_id""").fetchone()
        con.execute(f"drop table {WORK}.link_clusters")
        con.execute(f"alter table {WORK}.link_clusters_next rename to link_clusters")
        if not changed:
            return con.execute(f"select count(distinct cluster_id) from {WORK}.link_clusters"
                               ).fetchone()[0]
    raise RuntimeError("linkage clusters did not settle")


def next_number(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    """One more than the highest id number ever issued (ids are a letter and digits)."""
    (top,) = con.execute(
        f"select max(cast(substr({column}, 2) as bigint)) from main.{table}"
    ).fetchone()
    return (top or 0) + 1


def link(con: duckdb.DuckDBPyConnection, as_of: str, previous_run_id: str | None
         ) -> dict[str, int]:
    """Run the deterministic passes, cluster, assign ids and build the person tables."""
    counts = run_steps(con, ["link/link_edges"])
    counts["link_clusters"] = connected_components(con)
    params = {
        "as_of": as_of,
        "previous_run_id": previous_run_id,
        "next_person_number": next_number(con, "persons_history", "person_id"),
    }
    counts |= run_steps(con, ["link/person_ids", "link/person_records", "link/person_keys",
                              "link/persons"], params)
    return counts



