"""Validation two ways on one school census: the pipeline's step (pandera on Polars,
batches read from DuckDB as Arrow, the census then staged) against pandera's Ibis
backend, which runs the checks as SQL in DuckDB but cannot name the failing rows.

The school census is the largest extract (over half a borough's rows). Both ways clean
the text alike (trim, blank → null, codes lower case, postcodes compacted) and make the
same checks: name lengths, dates (ISO or UK order, real days, not before 1900, not after
the as-of date), codes, postcode, UPRN, UPN, URN, academic year, whole numbers and the
absence arithmetic. Run on a database that has been through the load step::

    make bench-validate DB=bench/work/out-1000000/familyscreen.duckdb

(which installs the optional ``ibis`` extra first). It prints the seconds and the rows
found failing for each way, and works on a copy of the database. ``--spoil N`` first
writes a bad value into every Nth row of the copy (a term, a postcode, a date of birth
or a sessions count, in turn), as a messy extract would have.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

import ibis
import pandera.ibis as pi

from pipelines import validate
from pipelines.db import WORK, connect
from schemas import EXTRACTS, codes
from schemas import checks as ck

AS_OF = dt.date(2025, 9, 30)
SPEC = EXTRACTS["school_attendance"]


def cleaned_sql(raw_columns: list[str]) -> str:
    """The pipeline's ``preclean`` as SQL, with the date of birth parsed as the date
    checks read it (``try_strptime`` is strict: no 30 February)."""
    parts = []
    for name, spec in SPEC.columns.items():
        text = f"nullif(trim({name}), '')" if name in raw_columns else "cast(null as varchar)"
        if spec.kind == "code":
            text = f"lower({text})"
        elif spec.kind == "postcode":
            text = f"regexp_replace(upper({text}), '[^A-Z0-9]', '', 'g')"
        elif spec.kind == "upn":
            text = f"upper({text})"
        parts.append(f"{text} as {name}")
    iso = r"'[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}'"
    uk = r"'[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}'"
    return f"""select *,
            case when regexp_full_match(date_of_birth, {iso})
                then try_strptime(date_of_birth, '%Y-%m-%d')
                when regexp_full_match(date_of_birth, {uk})
                then try_strptime(date_of_birth, '%d/%m/%Y') end as dob_parsed
        from (select source_row, {", ".join(parts)} from {WORK}.raw_school_attendance)"""


def ibis_schema() -> pi.DataFrameSchema:
    """The school census model for pandera's Ibis backend (checks compile to SQL)."""
    def matches(pattern: str) -> pi.Check:
        return pi.Check.str_matches(f"^{pattern}$")

    whole = matches("[0-9]{1,9}")
    dob = [
        pi.Check(lambda d: d.table.dob_parsed.notnull() | d.table.date_of_birth.isnull(),
                 name="date"),
        pi.Check(lambda d: d.table.dob_parsed.isnull()
                 | (d.table.dob_parsed >= ibis.timestamp("1900-01-01 00:00:00")),
                 name="plausible_date"),
        pi.Check(lambda d: d.table.dob_parsed.isnull()
                 | (d.table.dob_parsed <= ibis.timestamp(f"{AS_OF} 00:00:00")),
                 name="not_after_as_of"),
    ]
    year = pi.Check(lambda d: d.table.academic_year.re_search("^[0-9]{4}/[0-9]{2}$")
                    & ((d.table.academic_year.left(4).try_cast("int") + 1) % 100
                       == d.table.academic_year.right(2).try_cast("int")).fill_null(False),
                    name="academic_year")
    absence = pi.Check(lambda d: (
        d.table.sessions_authorised_absence.try_cast("int64")
        + d.table.sessions_unauthorised_absence.try_cast("int64")
        <= d.table.sessions_possible.try_cast("int64")).fill_null(True), name="absence")
    name = pi.Check.str_length(max_value=100)
    return pi.DataFrameSchema({
        "forename": pi.Column(str, name, nullable=True),
        "surname": pi.Column(str, name, nullable=True),
        "date_of_birth": pi.Column(str, nullable=True),
        "gender": pi.Column(str, pi.Check.isin(codes.GENDERS), nullable=True),
        "postcode": pi.Column(str, matches(ck.POSTCODE.strip("^$")), nullable=True),
        "uprn": pi.Column(str, matches("[0-9]{1,12}"), nullable=True),
        "upn": pi.Column(str, matches("[A-Z0-9]{13}")),
        "school_urn": pi.Column(str, matches("[0-9]{6}"), nullable=True),
        "academic_year": pi.Column(str, year),
        "term": pi.Column(str, pi.Check.isin(codes.TERMS)),
        "sessions_possible": pi.Column(str, whole),
        "sessions_authorised_absence": pi.Column(str, whole),
        "sessions_unauthorised_absence": pi.Column(str, whole),
        "provision": pi.Column(str, pi.Check.isin(codes.PROVISIONS), nullable=True),
    }, checks=[*dob, absence])  # a column check sees its own column only


def through_pipeline(db: Path) -> tuple[float, int]:
    """(seconds, rows rejected or with a value nulled) for the pipeline's own step, its
    staging (storing the census) included."""
    with connect(db) as con:
        started = time.perf_counter()
        (counts,) = validate.validate_all(con, {SPEC.name: SPEC}, AS_OF)
        seconds = time.perf_counter() - started
    return seconds, counts.rows_rejected + counts.values_nulled


def through_ibis(db: Path) -> tuple[float, int]:
    """(seconds, failure cases) for pandera's Ibis backend over the cleaned census."""
    con = ibis.duckdb.connect(str(db), read_only=True)
    raw = con.table("raw_school_attendance", database=WORK).columns
    table = con.sql(cleaned_sql(list(raw)))
    started = time.perf_counter()
    try:
        ibis_schema().validate(table, lazy=True)
        failures = 0
    except pi.errors.SchemaErrors as exc:
        failures = len(exc.failure_cases)
    seconds = time.perf_counter() - started
    con.disconnect()
    return seconds, failures


SPOILS = [("term", "'winter'"), ("postcode", "'NOT A POSTCODE'"),
          ("date_of_birth", "'31/02/2012'"), ("sessions_possible", "'-4'")]


def spoil(con, every: int) -> None:
    """A bad value in every ``every``-th row, in one column after another."""
    for n, (column, value) in enumerate(SPOILS):
        con.execute(f"update {WORK}.raw_school_attendance set {column} = {value} "
                    f"where source_row % {every * len(SPOILS)} = {n * every}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("db", type=Path, help="a run database that has raw_school_attendance")
    p.add_argument("--spoil", type=int, metavar="N", help="a bad value in every Nth row")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy.duckdb"
        shutil.copy(args.db, copy)
        with connect(copy) as con:
            if args.spoil:
                spoil(con, args.spoil)
            (rows,) = con.execute(
                f"select count(*) from {WORK}.raw_school_attendance").fetchone()
        for way, run in (("the pipeline: pandera on Polars, staged", through_pipeline),
                         ("pandera on Ibis, in DuckDB", through_ibis)):
            seconds, failing = run(copy)
            print(f"{way}: {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s), "
                  f"{failing:,} failing", flush=True)


if __name__ == "__main__":
    main()
