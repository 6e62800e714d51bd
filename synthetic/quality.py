"""Quality against known truth: a run on generated extracts compared with the generator's
``truth/`` folder (pairwise person links, cohort precision and recall, flags).

Used by the tests and the benchmark (``bench/scale.py``) only: real extracts have no
truth, and the board report shows nothing that only a generator could score.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

FLAGS = ("crime_asb", "education", "work", "local_filter")


@dataclass(frozen=True)
class Scores:
    """Cohort precision and recall against truth, and families whose flags disagree."""

    n_cohort: int
    n_true: int
    n_true_positive: int
    flag_mismatches: list[tuple[str, str]]
    pair_precision: float
    pair_recall: float

    @property
    def precision(self) -> float:
        return self.n_true_positive / self.n_cohort if self.n_cohort else 1.0

    @property
    def recall(self) -> float:
        return self.n_true_positive / self.n_true if self.n_true else 1.0


def score(con: duckdb.DuckDBPyConnection, truth: Path) -> Scores:
    """Score the run whose tables ``con`` sees first (the ``work`` schema of the latest
    run). Each family maps to the truth household most of its members belong to, a tie
    to the smallest household id: a family split evenly between two households scores
    the same on every run (``mode()`` picks among tied values in whatever order DuckDB's
    threads meet them: two 1,000,000-household runs with byte-identical outputs scored
    cohort precision 0.9999 and 0.9998)."""
    for name in ("records", "persons", "households"):
        con.execute(f"""create or replace temp table truth_{name} as
            select * from read_csv($p, all_varchar = true)""",
                    {"p": str(truth / f"{name}.csv")})
    con.execute("""
        create or replace temp table record_links as
            select pr.person_id, t.person_id as truth_person_id
            from person_records as pr
            join truth_records as t
              on t.extract = pr.extract and cast(t.source_row as bigint) = pr.source_row
            where t.person_id <> '';
        create or replace temp table family_truth as
            select family_id,
                first(household_id order by n_members desc, household_id) as household_id
            from (
                select fm.family_id, tp.household_id, count(*) as n_members
                from family_members as fm
                join (select distinct person_id, truth_person_id from record_links) as l
                    using (person_id)
                join truth_persons as tp on tp.person_id = l.truth_person_id
                group by all
            )
            group by family_id;
    """)
    n_cohort = con.execute("select count(*) from cohort").fetchone()[0]
    n_true = con.execute(
        "select count(*) from truth_households where qualifies = 'true'").fetchone()[0]
    n_tp = con.execute("""
        select count(distinct ft.household_id) from cohort as c
        join family_truth as ft using (family_id)
        join truth_households as th using (household_id)
        where th.qualifies = 'true'""").fetchone()[0]
    checks = " or ".join(f"c.{f} <> (th.{f} = 'true')" for f in FLAGS)
    mismatches = con.execute(f"""
        select c.family_id, th.household_id from cohort as c
        join family_truth as ft using (family_id)
        join truth_households as th using (household_id)
        where {checks} order by 1""").fetchall()
    # pairwise person-link quality over record pairs
    tp, predicted, actual = con.execute("""
        with r as (select * from record_links)
        select
            (select sum(n * (n - 1) / 2) from (select count(*) as n from r
                group by person_id, truth_person_id)),
            (select sum(n * (n - 1) / 2) from (select count(*) as n from r group by person_id)),
            (select sum(n * (n - 1) / 2) from (select count(*) as n from r
                group by truth_person_id))
    """).fetchone()
    return Scores(n_cohort, n_true, n_tp, mismatches,
                  pair_precision=(tp / predicted) if predicted else 1.0,
                  pair_recall=(tp / actual) if actual else 1.0)
