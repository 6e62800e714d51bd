"""familyscreen's person-linkage model on the FEBRL3 deduplication benchmark.

FEBRL3 has no source identifiers, so the model trains by expectation maximisation (the
path a council without UPNs or NINOs in its extracts would take). Each record starts as
its own cluster; pairs at or above the accept threshold are the links. Quality is
pairwise against the benchmark's truth. ``python -m bench.febrl3`` prints the figures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines import SQL_DIR, link_model, standardise
from pipelines.criteria import Linkage

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "febrl3" / "dataset3.csv"


@dataclass(frozen=True)
class Quality:
    n_records: int
    true_pairs: int
    predicted_pairs: int
    true_positives: int
    seconds: float

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def profiles(con: duckdb.DuckDBPyConnection) -> None:
    """``profiles``: FEBRL3 records in the shape of ``link_profiles`` (one per record)."""
    con.execute("""create or replace table raw as
        select * from read_csv($p, header = true, all_varchar = true)""", {"p": str(DATA)})
    con.execute("""create or replace table profiles as
        with r as (
            select
                trim(rec_id) as unique_id,
                name_std(given_name) as forename,
                name_std(surname) as surname,
                trim(date_of_birth) as dob_digits,
                try_strptime(trim(date_of_birth), '%Y%m%d')::date as dob,
                nullif(trim(postcode), '') as postcode,
                nullif(trim(street_number), '') as house_number,
                nullif(upper(trim(address_1)), '') as street
            from raw
        )
        select
            r.unique_id,
            r.unique_id as cluster_id,
            r.forename,
            coalesce(v.forename_variants, []) as forename_variants,
            r.surname,
            [r.surname] as surname_parts,
            r.dob,
            case when r.dob is not null then r.dob_digits end as dob_digits,
            case when day(r.dob) <= 12 then strftime(r.dob, '%Y%d%m') end as dob_swapped,
            year(r.dob) as dob_year,
            month(r.dob) as dob_month,
            day(r.dob) as dob_day,
            r.postcode,
            left(r.postcode, 3) as postcode_sector,
            left(r.postcode, 2) as postcode_district,
            r.house_number,
            null::varchar as flat,
            r.street,
            null::varchar as key_label,
            1 as n_records
        from r
        left join (select name, list(variant order by variant) as forename_variants
                   from ref_name_variants group by name) as v on v.name = r.forename
        order by r.unique_id""")


def evaluate(config: Linkage | None = None) -> Quality:
    """Train and score FEBRL3 with the pipeline's model; pairwise quality at accept."""
    config = config or Linkage()
    con = duckdb.connect()
    con.execute("create schema work; set search_path = 'work,main'")
    con.execute((SQL_DIR / "macros.sql").read_text())
    standardise.load_name_variants(con)
    profiles(con)
    started = time.perf_counter()
    scores, _ = link_model.score(con.table("profiles").to_arrow_table(), config)
    seconds = time.perf_counter() - started
    con.register("scores", scores)
    entity = "split_part(x, '-', 2)"
    (n, true_pairs, predicted, tp) = con.execute(f"""
        select
            (select count(*) from profiles),
            (select sum(n * (n - 1) // 2) from (
                select count(*) as n from profiles group by {entity.replace('x', 'unique_id')})),
            (select count(*) from scores where match_probability >= $accept),
            (select count(*) from scores
             where match_probability >= $accept
                and {entity.replace('x', 'unique_id_l')} = {entity.replace('x', 'unique_id_r')})
        """, {"accept": config.accept_probability}).fetchone()
    con.close()
    return Quality(n, int(true_pairs), int(predicted), int(tp), seconds)


def main() -> None:
    q = evaluate()
    print(f"FEBRL3: {q.n_records} records, {q.true_pairs} true pairs, {q.predicted_pairs} "
          f"linked; precision {q.precision:.4f}, recall {q.recall:.4f}, F1 {q.f1:.4f} "
          f"({q.seconds:.1f}s)")


if __name__ == "__main__":
    main()
