"""Link: person records → persons (``person_records``, ``person_identities``,
``person_keys``); where each person lives is the households step's.

1. Deterministic passes (``sql/link/link_edges.sql``): shared source identifiers and
   exact name with date of birth. Their connected components are the first clusters.
2. Probabilistic linkage (:mod:`pipelines.link_model`, splink) compares the distinct
   identities of different clusters; pairs above the accept threshold are linked, the
   uncertain band goes to the review queue, and a person's decisions
   (``match_decisions.csv``) win over the model.
3. Clustering checks for chaining: a cluster the model's links made implausible (two
   identifiers of one system, dates of birth that differ beyond a swap or a slip, a pair
   a person rejected) loses its weak model links (``sql/link/link_splits.sql``); one
   split for its dates of birth alone keeps those that join no conflicting dates
   (:func:`keep_compatible`).
4. Ids persist across runs (:data:`ID_STEPS`): a person keeps their id while their
   records still link the same way; a merge keeps the oldest id, a split leaves it on
   the larger part, and ``person_lineage`` records what became of every id, and why.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from pipelines import link_model
from pipelines.db import (
    WORK,
    database_path,
    memory_lent,
    quote_ident,
    run_steps,
    spill_folder,
)
from pipelines.settings import Linkage

log = logging.getLogger("familyscreen")

# Person ids from the previous run's: each record's fingerprint, the evidence each new
# cluster shares with each previous person, whom each previous id passes to, the ids,
# what became of each, and the fingerprints kept for the next run.
ID_STEPS = ["link/record_hashes", "link/person_anchors", "link/cluster_keys",
            "link/person_overlaps", "link/person_successors", "link/person_ids",
            "link/person_lineage", "link/person_record_hashes"]


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The smallest node of each node's connected component, for nodes ``0 … n-1`` and
    undirected edges ``left[i] – right[i]``.

    Vectorised min-label propagation with hooking and pointer jumping: every round each
    edge pulls both its ends and both their labels down to the smaller label, then every
    label is replaced by its own label until that settles. A label never rises and is
    always a node of the same component, so the rounds end when every edge's two ends
    share a label: the component's smallest node. Rounds grow with the logarithm of a
    component's diameter, not with the number of records.
    """
    labels = np.arange(n, dtype=np.int64)
    while True:
        before = labels
        labels = labels.copy()
        low_l, low_r = labels[left], labels[right]
        pulled = np.minimum(low_l, low_r)
        for target in (left, right, low_l, low_r):
            np.minimum.at(labels, target, pulled)
        while True:
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(labels, before):
            return labels


def number_records(con: duckdb.DuckDBPyConnection) -> None:
    """Number every person record in record_id order (temporary table ``__nodes``), once
    for the three component passes."""
    con.execute(f"""create or replace temp table __nodes as
        select record_id, cast(row_number() over (order by record_id) - 1 as bigint) as node
        from {WORK}.std_person_records""")


def connected_components(con: duckdb.DuckDBPyConnection, edges: str, out: str) -> int:
    """``out``: one row per person record, in record_id order, with the smallest record_id
    of its component over ``edges`` (pairs ``record_id_l``, ``record_id_r``).

    Records are numbered by :func:`number_records` in record_id order, so the smallest
    node is the smallest record_id; the components are found in :func:`components`. The
    ids are fetched per pass, not held: the linkage model runs between passes, and a
    region's ids are hundreds of megabytes.
    """
    target, edges = f"{WORK}.{quote_ident(out)}", f"{WORK}.{quote_ident(edges)}"
    pairs = con.execute(f"""select l.node as l, r.node as r from {edges} as e
        join __nodes as l on l.record_id = e.record_id_l
        join __nodes as r on r.record_id = e.record_id_r""").fetchnumpy()
    record_ids = con.execute("select record_id from __nodes order by node"
                             ).to_arrow_table()[0]
    labels = components(len(record_ids), pairs["l"].astype(np.int64),
                        pairs["r"].astype(np.int64))
    del pairs
    con.register("__clusters", pa.table({"record_id": record_ids,
                                         "cluster_id": record_ids.take(labels)}))
    con.execute(f"create or replace table {target} as select * from __clusters")
    con.unregister("__clusters")
    return int(np.unique(labels).size)


def keep_compatible(con: duckdb.DuckDBPyConnection, strong_probability: float) -> int:
    """``link_dob_split_out``: one row per weak model link (below ``strong_probability``)
    that a cluster split for its dates of birth alone loses (``link_splits``).

    Not every weak link of such a cluster: its deterministic, reviewer and strong links
    stand, then its weak links are added best first (by score, then record ids), each
    kept unless it would join two dates of birth that no recording error explains
    (``dob_compatible``). A person written four times alike and once with a rewritten
    date keeps the four together, where dropping every weak link had left them apart; a
    parent and a child of one name still stay two. Returns the links taken out.
    """
    edges = con.execute(f"""
        select e.record_id_l, e.record_id_r,
            e.method = 'probabilistic' and e.score < $strong as weak
        from {WORK}.link_edges_draft as e
        join {WORK}.link_cluster_draft as c on c.record_id = e.record_id_l
        join {WORK}.link_splits as s using (cluster_id)
        where not s.drop_strong
        order by weak, e.score desc, e.record_id_l, e.record_id_r""",
                        {"strong": strong_probability}).fetchall()
    con.execute(f"""create or replace temp table __dated as
        select c.cluster_id, r.record_id, r.date_of_birth as dob
        from {WORK}.link_cluster_draft as c
        join {WORK}.link_splits as s using (cluster_id)
        join {WORK}.std_person_records as r using (record_id)
        where not s.drop_strong and r.date_of_birth is not null""")
    dobs = {record: {dob} for (record, dob) in
            con.execute("select record_id, dob from __dated").fetchall()}
    conflicts = set(con.execute(f"""
        with d as (select distinct cluster_id, dob from __dated)
        select a.dob, b.dob from d as a join d as b
            on a.cluster_id = b.cluster_id and a.dob < b.dob
        where not {WORK}.dob_compatible(a.dob, b.dob)""").fetchall())
    con.execute("drop table __dated")
    parent: dict[str, str] = {}

    def root(record: str) -> str:
        while parent.get(record, record) != record:
            record = parent[record]
        return record

    def conflict(a: str, b: str) -> bool:
        return any((min(x, y), max(x, y)) in conflicts
                   for x in dobs.get(a, ()) for y in dobs.get(b, ()))

    out = []
    for left, right, weak in edges:
        a, b = root(left), root(right)
        if a == b:
            continue
        if weak and conflict(a, b):
            out.append((left, right))
            continue
        parent[b] = a
        dobs[a] = dobs.get(a, set()) | dobs.pop(b, set())
    con.register("__out", pa.table({"record_id_l": pa.array([o[0] for o in out], pa.string()),
                                    "record_id_r": pa.array([o[1] for o in out], pa.string())}))
    con.execute(f"create or replace table {WORK}.link_dob_split_out as select * from __out")
    con.unregister("__out")
    return len(out)


def score_pairs(con: duckdb.DuckDBPyConnection, config: Linkage,
                stored_model: dict[str, Any] | None = None) -> dict[str, int]:
    """``link_scores`` from the probabilistic model over ``link_profiles`` (trained on
    them, or ``stored_model`` as it is), and ``link_model``: one row, how the model was
    made and the model itself (splink's JSON), published with the run so that the
    parameters that decided a family stay with it."""
    started = time.perf_counter()
    database = database_path(con)
    with memory_lent(con):
        # streamed, never held whole: the model's database keeps its own copy
        profiles = con.execute(f"select * from {WORK}.link_profiles").fetch_record_batch()
        scores, summary = link_model.score(profiles, config,
                                           spill_folder(database, "model") if database
                                           else None, stored_model)
    con.register("__scores", scores)
    con.execute(f"create or replace table {WORK}.link_scores as select * from __scores")
    con.unregister("__scores")
    seconds = round(time.perf_counter() - started, 1)
    con.execute(f"""create or replace table {WORK}.link_model as select
        $m_from as trained_from, $label_pairs as n_label_pairs,
        $n_profiles as n_profiles, $n_rules as n_blocking_rules,
        $n_scored as n_pairs_scored, $seconds as seconds,
        cast($model as varchar) as model_json""",
                {"m_from": summary["m_from"], "label_pairs": summary["label_pairs"],
                 "n_profiles": summary["n_profiles"], "n_rules": summary["n_blocking_rules"],
                 "n_scored": scores.num_rows, "seconds": seconds,
                 "model": json.dumps(summary["model"]) if summary["model"] else None})
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
         config: Linkage, stored_model: dict[str, Any] | None = None) -> dict[str, int]:
    """Link person records into persons with stable ids; returns row counts per table.
    ``stored_model``: an earlier run's model to score with instead of training one."""
    counts = run_steps(con, ["link/link_edges"])
    number_records(con)
    counts["link_det_clusters"] = connected_components(con, "link_edges", "link_det_clusters")
    counts |= run_steps(con, ["link/link_record_profiles", "link/link_profiles"])
    counts |= score_pairs(con, config, stored_model)
    thresholds = {"accept_probability": config.accept_probability,
                  "strong_probability": config.strong_probability}
    counts |= run_steps(con, ["link/link_candidates", "link/link_edges_draft"], thresholds)
    counts["link_cluster_draft"] = connected_components(con, "link_edges_draft",
                                                        "link_cluster_draft")
    counts |= run_steps(con, ["link/link_splits"])
    counts["link_dob_split_out"] = keep_compatible(con, config.strong_probability)
    counts |= run_steps(con, ["link/link_edges_split_out", "link/link_edges_final",
                              "link/review_queue"])
    counts["link_clusters"] = connected_components(con, "link_edges_final", "link_clusters")
    con.execute("drop table __nodes")
    params = {
        "as_of": as_of,
        "previous_run_id": previous_run_id,
        "next_person_number": next_number(con, "persons_history", "person_id"),
    }
    counts |= run_steps(con, [*ID_STEPS, "link/person_records", "link/person_keys",
                              "link/person_identities"], params)
    return counts
