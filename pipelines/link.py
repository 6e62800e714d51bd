"""Link: person records → persons (``person_records``, ``persons``, ``person_keys``).

1. Deterministic passes (``sql/link/link_edges.sql``): shared source identifiers and
   exact name with date of birth. Their connected components are the first clusters.
2. Probabilistic linkage (:mod:`pipelines.link_model`, splink) compares the distinct
   identities of different clusters; pairs above the accept threshold are linked, the
   uncertain band goes to the review queue, and a person's decisions
   (``match_decisions.csv``) win over the model.
3. Clustering checks for chaining: a cluster the model's links made implausible (two
   identifiers of one system, dates of birth that differ beyond a swap or a slip, a pair
   a person rejected) loses its weak model links (``sql/link/link_splits.sql``).
4. Ids persist across runs (``sql/link/person_ids.sql``).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import duckdb

from pipelines import link_model
from pipelines.criteria import Linkage
from pipelines.db import WORK, quote_ident, run_steps

log = logging.getLogger("familyscreen")

MAX_ITERATIONS = 100


def connected_components(con: duckdb.DuckDBPyConnection, edges: str, out: str) -> int:
    """``out``: one row per person record with the smallest record_id of its component
    over ``edges`` (directed pairs, both directions present).

    Label propagation in SQL: each round every record takes the smallest label among
    itself and its neighbours, until nothing changes.
    """
    target, following = f"{WORK}.{quote_ident(out)}", f"{WORK}.{quote_ident(out + '_next')}"
    edges = f"{WORK}.{quote_ident(edges)}"
    con.execute(f"""create or replace table {target} as
        select record_id, record_id as cluster_id from {WORK}.std_person_records""")
    for _ in range(MAX_ITERATIONS):
        con.execute(f"""create or replace table {following} as
            select c.record_id, least(c.cluster_id, min(n.cluster_id)) as cluster_id
            from {target} as c
            left join {edges} as e on e.record_id_l = c.record_id
            left join {target} as n on n.record_id = e.record_id_r
            group by c.record_id, c.cluster_id""")
        (changed,) = con.execute(f"""select count(*) from {target} as c
            join {following} as x using (record_id)
            where c.cluster_id <> x.cluster_id""").fetchone()
        con.execute(f"drop table {target}")
        con.execute(f"alter table {following} rename to {quote_ident(out)}")
        if not changed:
            return con.execute(f"select count(distinct cluster_id) from {target}").fetchone()[0]
    raise RuntimeError("linkage clusters did not settle")


def score_pairs(con: duckdb.DuckDBPyConnection, config: Linkage) -> dict[str, int]:
    """``link_scores`` from the probabilistic model over ``link_profiles``."""
    started = time.perf_counter()
    profiles = con.execute(f"select * from {WORK}.link_profiles").to_arrow_table()
    (database,) = con.execute("select path from duckdb_databases() where database_name = "
                              "current_database()").fetchone()
    scores, summary = link_model.score(profiles, config,
                                       Path(f"{database}.tmp") if database else None)
    con.register("__scores", scores)
    con.execute(f"create or replace table {WORK}.link_scores as select * from __scores")
    con.unregister("__scores")
    seconds = round(time.perf_counter() - started, 1)
    con.execute(f"""create or replace table {WORK}.link_model as select
        $m_from as trained_from, $label_pairs as n_label_pairs,
        $n_profiles as n_profiles, $n_scored as n_pairs_scored,
        $seconds as seconds""",
                {"m_from": summary["m_from"], "label_pairs": summary["label_pairs"],
                 "n_profiles": profiles.num_rows, "n_scored": scores.num_rows,
                 "seconds": seconds})
    log.info("link: model trained on %s (%d labelled pairs), %d pairs scored in %.1fs",
             summary["m_from"], summary["label_pairs"], scores.num_rows, seconds)
    return {"link_scores": scores.num_rows}


def next_number(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    """One more than the highest id number ever issued (ids are a letter and digits)."""
    (top,) = con.execute(
        f"select max(cast(substr({column}, 2) as bigint)) from main.{table}"
    ).fetchone()
    return (top or 0) + 1


def link(con: duckdb.DuckDBPyConnection, as_of: str, previous_run_id: str | None,
         config: Linkage) -> dict[str, int]:
    """Link person records into persons with stable ids; returns row counts per table."""
    counts = run_steps(con, ["link/link_edges"])
    counts["link_det_clusters"] = connected_components(con, "link_edges", "link_det_clusters")
    counts |= run_steps(con, ["link/link_record_profiles", "link/link_profiles"])
    counts |= score_pairs(con, config)
    thresholds = {"accept_probability": config.accept_probability,
                  "strong_probability": config.strong_probability}
    counts |= run_steps(con, ["link/link_candidates", "link/link_edges_draft"], thresholds)
    counts["link_cluster_draft"] = connected_components(con, "link_edges_draft",
                                                        "link_cluster_draft")
    counts |= run_steps(con, ["link/link_splits", "link/link_edges_final", "link/review_queue"],
                        thresholds)
    counts["link_clusters"] = connected_components(con, "link_edges_final", "link_clusters")
    params = {
        "as_of": as_of,
        "previous_run_id": previous_run_id,
        "next_person_number": next_number(con, "persons_history", "person_id"),
    }
    counts |= run_steps(con, ["link/person_ids", "link/person_records", "link/person_keys",
                              "link/persons"], params)
    return counts
