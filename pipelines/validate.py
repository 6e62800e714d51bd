"""Validate: ``raw_<extract>`` → pandera → ``checked_<extract>`` + rejects + warnings.

Problems in the data are rows, never exceptions. A failure in a field the row cannot
be used without rejects the row (``work.rejects``: one row per rejected input row,
with every problem found); a failure in a person column or other detail nulls that
value and is counted (``work.value_warnings``: one row per nulled value). Every input
row ends up in exactly one of ``checked_<extract>`` or ``rejects``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import pandera.polars as pa
import polars as pl
import pyarrow

from pipelines.db import DEBUG, WORK, debugging, quote_ident, run_steps
from pipelines.extract import LOAD_REJECTS
from schemas import checks as ck
from schemas.extracts import ExtractSpec

MISSING = "missing value"
FOUND = {"source_row": pl.Int64, "column": pl.String, "problem": pl.String,
         "policy": pl.String}


@dataclass(frozen=True)
class ValidationCounts:
    """Per-extract counts for the manifest and report (no values, only numbers)."""

    extract: str
    rows_read: int
    rows_staged: int
    rows_rejected: int
    values_nulled: int


def preclean(raw: pl.DataFrame, spec: ExtractSpec) -> pl.DataFrame:
    """Trim text, blank → null, codes lower-cased, postcodes/NINOs/UPNs compacted: each
    value cleaned once, here, before it is checked and typed. Each date column's dates
    are parsed once too, into a hidden column (``checks.parsed``) that its checks, the
    row checks and the typing read.

    Optional columns the file lacks are added as all-null so later steps see one shape.
    """
    columns = [pl.col("source_row")]
    for name, col in spec.columns.items():
        if name not in raw.columns:
            columns.append(pl.lit(None, pl.String).alias(name))
            continue
        trimmed = pl.col(name).cast(pl.String).str.strip_chars()
        value = pl.when(trimmed != "").then(trimmed)
        if col.kind == "code":
            value = value.str.to_lowercase()
        elif col.kind == "postcode":
            value = ck.normalise_postcode(value)
        elif col.kind == "nino":
            value = ck.normalise_nino(value)
        elif col.kind == "upn":
            value = value.str.to_uppercase()
        columns.append(value.alias(name))
    dates = [ck.parse_dates(pl.col(name)).alias(ck.parsed(name))
             for name, col in spec.columns.items() if col.kind == "date"]
    # lazily, so that an expression used twice is worked out once
    return raw.lazy().select(columns).with_columns(dates).collect()


def failures(df: pl.DataFrame, spec: ExtractSpec, as_of: dt.date) -> pl.DataFrame:
    """One row per (source_row, column, problem) that pandera found, with the column's
    policy, in row order and, within a row, in the order of the extract's columns."""
    try:
        spec.schema(as_of).validate(df, lazy=True)
        return pl.DataFrame(schema=FOUND)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.filter(pl.col("index").is_not_null())
    # pandera reports a dataframe-level check by its error text, a column check by its own.
    row_checks = {key: rc for rc in spec.row_checks for key in (rc.name, rc.problem)}
    rows = df.get_column("source_row")
    out = []
    for index, column, check in cases.select("index", "column", "check").iter_rows():
        if check in row_checks:
            rc = row_checks[check]
            out.append((rows[index], rc.column, rc.problem, "reject"))
        else:
            out.append((rows[index], column, MISSING if check == "not_nullable" else check,
                        spec.columns[column].policy))
    order = {c: i for i, c in enumerate(spec.columns)}
    return (pl.DataFrame(out, schema=FOUND, orient="row").unique(maintain_order=True)
            .with_columns(pl.col("column").replace_strict(order, default=-1).alias("_order"))
            .sort("source_row", "_order", maintain_order=True).drop("_order"))


def typed(df: pl.DataFrame, spec: ExtractSpec) -> pl.DataFrame:
    """Values converted with the same parsers the checks used."""
    columns = []
    for name, col in spec.columns.items():
        value = pl.col(name)
        if col.kind == "date":
            value = pl.col(ck.parsed(name))
        elif col.kind == "int":
            value = value.cast(pl.Int64)  # whole_number has passed
        elif col.kind == "postcode":
            value = value.str.replace(ck.POSTCODE, "${1} ${2}")
        columns.append(value.alias(name))
    valid = [ck.upn_is_valid(pl.col(name)).alias(f"is_{name}_valid")
             for name, col in spec.columns.items() if col.kind == "upn"]
    return df.lazy().select(pl.col("source_row"), *columns, *valid).collect()


# Rows validated at a time: every check reads one row, so batches give the same result as
# the whole file while memory stays flat at any size. Polars spreads each batch's checks
# over the machine's cores itself.
BATCH_ROWS = 1_000_000


@dataclass
class Checked:
    """One batch's outcome: rows to stage, rejected rows (one each, every problem named)
    and nulled values or kept warnings (one per value)."""

    out: pl.DataFrame
    rejects: pl.DataFrame
    warnings: pl.DataFrame
    n_read: int


def check_batch(spec: ExtractSpec, as_of: dt.date, raw: pl.DataFrame) -> Checked:
    """Check raw rows (with their ``source_row``)."""
    df = preclean(raw, spec)
    found = failures(df, spec, as_of)
    rejecting = found.filter(pl.col("policy") == "reject")
    kept = ~pl.col("source_row").is_in(rejecting.get_column("source_row").unique().implode())
    nulled = found.filter((pl.col("policy") == "null") & kept)
    # a nulled date is nulled as parsed too
    nulling = [pl.when(pl.col("source_row").is_in(rows)).then(None).otherwise(pl.col(name))
               .alias(name)
               for column, rows in nulled.group_by("column").agg("source_row").iter_rows()
               for name in (column, ck.parsed(column)) if name in df.columns]
    out = typed(df.with_columns(nulling).filter(kept), spec)
    upn_warnings = [
        out.filter(pl.col(f"is_{c}_valid").eq(False)).select(
            "source_row", pl.lit(c).alias("column"),
            pl.lit("UPN check letter does not match (kept)").alias("problem"))
        for c, s in spec.columns.items() if s.kind == "upn"
    ]
    warnings = pl.concat([nulled.select("source_row", "column", "problem"), *upn_warnings])
    per_row = rejecting.group_by("source_row", maintain_order=True).agg(
        pl.col("column").unique(maintain_order=True).str.join(";"),
        pl.col("problem").unique(maintain_order=True).str.join("; "))
    raw_json = raw.join(per_row.select("source_row"), on="source_row", how="semi").select(
        "source_row", pl.struct(pl.exclude("source_row")).struct.json_encode()
        .alias("raw_values"))
    rejects = per_row.join(raw_json, on="source_row", how="left", maintain_order="left")
    return Checked(out, rejects.with_columns(pl.lit(spec.name).alias("extract")),
                   warnings.with_columns(pl.lit(spec.name).alias("extract")), raw.height)


# Arrow handed to DuckDB in chunks of its row-group size, which it reads on every core (a
# batch as one chunk is read on one)
CHUNK_ROWS = 122_880


def _arrow(frame: pl.DataFrame) -> pyarrow.Table:
    table = frame.to_arrow()
    return (pyarrow.Table.from_batches(table.to_batches(max_chunksize=CHUNK_ROWS))
            if table.num_rows else table)


def write_batch(con: duckdb.DuckDBPyConnection, spec: ExtractSpec, checked: Checked,
                append: bool) -> tuple[int, int, int, int]:
    """Write one checked batch into the temporary table ``checked_<name>`` (made afresh
    unless ``append``), rejects and warnings; (rows read, staged, rejected, values
    nulled). Temporary: staging reads it on this connection, and storing it in the
    database as well had been a third of the step's time at 1,000,000 households."""
    target = quote_ident(f"checked_{spec.name}")
    con.register("__checked", _arrow(checked.out))
    # a batch is in source_row order already, and DuckDB keeps the order rows come in
    con.execute(f"insert into {target} select * from __checked" if append else
                f"create or replace temp table {target} as select * from __checked")
    con.unregister("__checked")
    if checked.rejects.height:
        con.register("__rejects", _arrow(checked.rejects))
        con.execute(f"insert into {WORK}.rejects select extract, source_row, \"column\", "
                    "problem, raw_values from __rejects")
        con.unregister("__rejects")
    if checked.warnings.height:
        con.register("__warnings", _arrow(checked.warnings))
        con.execute(f"insert into {WORK}.value_warnings select extract, source_row, "
                    "\"column\", problem from __warnings")
        con.unregister("__warnings")
    return (checked.n_read, checked.out.height, checked.rejects.height,
            checked.warnings.height)


def raw_batches(con: duckdb.DuckDBPyConnection, spec: ExtractSpec) -> Iterator[pl.DataFrame]:
    """``raw_<name>`` in ``source_row`` order, ``BATCH_ROWS`` rows at a time (one empty
    batch for an empty extract, so its checked table is still made), read in one pass on
    a cursor of its own while ``con`` writes, the next batch read while this one is
    checked (DuckDB and Polars both work outside Python's lock)."""
    raw_table = f"{WORK}.{quote_ident('raw_' + spec.name)}"
    with con.cursor() as cursor, ThreadPoolExecutor(max_workers=1) as reading:
        reader = cursor.execute(f"select * from {raw_table} order by source_row"
                                ).to_arrow_reader(BATCH_ROWS)
        ahead = reading.submit(next, reader, None)
        batch = ahead.result()
        if batch is None:
            yield pl.from_arrow(reader.schema.empty_table())
        while batch is not None:
            ahead = reading.submit(next, reader, None)
            yield pl.from_arrow(batch)
            batch = ahead.result()


def stage(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """``work.stg_<name>`` from the temporary ``checked_<name>``
    (``sql/staging/stg_<name>.sql``), which then goes (kept in the debug schema in
    debug mode): one extract's checked rows held at a time."""
    run_steps(con, [f"staging/stg_{name}"])
    checked = quote_ident(f"checked_{name}")
    if debugging(con):
        con.execute(f"create or replace table {DEBUG}.{checked} as select * from {checked}")
    con.execute(f"drop table temp.{checked}")


def validate_all(con: duckdb.DuckDBPyConnection, specs: dict[str, ExtractSpec],
                 as_of: dt.date) -> list[ValidationCounts]:
    """Validate every raw table, extract by extract, into its staged table
    (``sql/staging/stg_<extract>.sql``), rejects and warnings.

    The load step's rejects (ragged rows) join ``work.rejects`` first.
    """
    con.execute(f"create or replace table {WORK}.rejects as select extract, source_row as "
                f"\"row\", \"column\", problem, raw_values from {WORK}.{LOAD_REJECTS}")
    con.execute(f"create or replace table {WORK}.value_warnings (extract varchar, \"row\" "
                "bigint, \"column\" varchar, problem varchar)")
    totals = {name: [0, 0, 0, 0] for name in specs}  # read, staged, rejected, nulled
    for spec in specs.values():
        for n, raw in enumerate(raw_batches(con, spec)):
            checked = check_batch(spec, as_of, raw)
            for i, count in enumerate(write_batch(con, spec, checked, append=n > 0)):
                totals[spec.name][i] += count
        stage(con, spec.name)
    load_rejected = dict(con.execute(
        f"select extract, count(*) from {WORK}.{LOAD_REJECTS} group by extract").fetchall())
    return [ValidationCounts(extract=name, rows_read=read + load_rejected.get(name, 0),
                             rows_staged=staged,
                             rows_rejected=rejected + load_rejected.get(name, 0),
                             values_nulled=nulled)
            for name, (read, staged, rejected, nulled) in totals.items()]
