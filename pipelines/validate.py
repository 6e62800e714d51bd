"""Validate: ``raw_<extract>`` → pandera → ``checked_<extract>`` + rejects + warnings.

Problems in the data are rows, never exceptions. A failure in a field the row cannot
be used without rejects the row (``work.rejects``: one row per rejected input row,
with every problem found); a failure in a person column or other detail nulls that
value and is counted (``work.value_warnings``: one row per nulled value). Every input
row ends up in exactly one of ``checked_<extract>`` or ``rejects``.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import pandas as pd
import pandera.pandas as pa
import pyarrow

from pipelines.db import WORK, quote_ident, run_steps
from pipelines.extract import LOAD_REJECTS
from schemas import checks as ck
from schemas.extracts import ExtractSpec

MISSING = "missing value"


@dataclass(frozen=True)
class ValidationCounts:
    """Per-extract counts for the manifest and report (no values, only numbers)."""

    extract: str
    rows_read: int
    rows_staged: int
    rows_rejected: int
    values_nulled: int


def preclean(raw: pd.DataFrame, spec: ExtractSpec) -> pd.DataFrame:
    """Trim text, blank → null, codes lower-cased, postcodes/NINOs/UPNs compacted.

    Optional columns the file lacks are added as all-null so later steps see one shape.
    """
    df = pd.DataFrame(index=raw.index)
    for name, col in spec.columns.items():
        if name not in raw.columns:
            df[name] = pd.Series(pd.NA, index=raw.index, dtype="string")
            continue
        values = raw[name].astype("string").str.strip()
        values = values.mask(values == "")
        if col.kind == "code":
            values = values.str.lower()
        elif col.kind == "postcode":
            values = ck.normalise_postcode(values)
        elif col.kind == "nino":
            values = ck.normalise_nino(values)
        elif col.kind == "upn":
            values = values.str.upper()
        df[name] = values
    return df


def failures(df: pd.DataFrame, spec: ExtractSpec, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per (source_row, column, problem) that pandera found, with the column's policy."""
    schema = spec.schema(as_of)
    empty = pd.DataFrame(columns=["source_row", "column", "problem", "policy"])
    try:
        schema.validate(df, lazy=True)
        return empty
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    # pandera reports a dataframe-level check by its error text, a column check by its own.
    row_checks = {key: rc for rc in spec.row_checks for key in (rc.name, rc.problem)}
    out = []
    for case in cases.itertuples(index=False):
        if pd.isna(case.index):
            continue  # a whole-column problem (e.g. a dtype); nothing to attribute to a row
        check = str(case.check)
        if check in row_checks:
            rc = row_checks[check]
            out.append((int(case.index), rc.column, rc.problem, "reject"))
            continue
        column = str(case.column)
        problem = MISSING if check == "not_nullable" else check
        out.append((int(case.index), column, problem, spec.columns[column].policy))
    found = pd.DataFrame(out, columns=empty.columns).drop_duplicates()
    order = {c: i for i, c in enumerate(spec.columns)}
    return found.sort_values(["source_row", "column"], key=lambda s: s.map(order).fillna(-1)
                             if s.name == "column" else s, kind="stable")


def typed(df: pd.DataFrame, spec: ExtractSpec) -> pd.DataFrame:
    """Values converted with the same parsers the checks used."""
    out = df.copy()
    for name, col in spec.columns.items():
        if col.kind == "date":
            out[name] = ck.parse_dates(out[name])
        elif col.kind == "int":
            out[name] = out[name].astype("int64[pyarrow]")  # whole_number has passed
        elif col.kind == "postcode":
            out[name] = out[name].str.replace(ck.POSTCODE, r"\1 \2", regex=True)
        elif col.kind == "upn":
            out[f"is_{name}_valid"] = ck.upn_is_valid(out[name])
    return out


# Rows validated at a time: every check reads one row, so batches give the same result as
# the whole file while memory stays flat at any size (a school census of millions of
# rows as one pandas frame took 10 GiB).
BATCH_ROWS = 500_000
ARROW_TYPES = {pyarrow.string(): pd.StringDtype("pyarrow")}
# Batches checked at once, one per core up to four (each batch in flight holds a few
# hundred MB; two were measured, on a 2-core machine): pandera's checks on Arrow-backed
# text spend much of their time outside the GIL (docs/decisions.md, "Validation in
# batches").
WORKERS = max(1, min(4, os.cpu_count() or 1))


@dataclass
class Checked:
    """One batch's outcome: rows to stage, rejected rows (one each, every problem named)
    and nulled values or kept warnings (one per value)."""

    out: pd.DataFrame
    rejects: pd.DataFrame
    warnings: pd.DataFrame
    n_read: int


def check_batch(spec: ExtractSpec, as_of: pd.Timestamp, raw: pd.DataFrame) -> Checked:
    """Check raw rows (indexed by ``source_row``): no database, so batches run on threads."""
    df = preclean(raw, spec)
    found = failures(df, spec, as_of)
    rejecting = found[found["policy"] == "reject"]
    rejected_rows = rejecting["source_row"].unique()
    nulled = found[(found["policy"] == "null") & ~found["source_row"].isin(rejected_rows)]
    for column, rows in nulled.groupby("column")["source_row"]:
        df.loc[rows.to_numpy(), column] = pd.NA

    out = typed(df.drop(index=rejected_rows), spec)
    upn_warnings = [
        pd.DataFrame({"source_row": out.index[out[f"is_{c}_valid"].eq(False).fillna(False)],
                      "column": c, "problem": "UPN check letter does not match (kept)"})
        for c, s in spec.columns.items() if s.kind == "upn"
    ]
    warnings = pd.concat([nulled[["source_row", "column", "problem"]], *upn_warnings])
    per_row = rejecting.groupby("source_row", sort=True).agg(
        column=("column", lambda s: ";".join(dict.fromkeys(s))),
        problem=("problem", lambda s: "; ".join(dict.fromkeys(s))),
    )
    raw_json = [json.dumps({k: (None if pd.isna(v) else v) for k, v in row.items()},
                           ensure_ascii=False)
                for row in raw.loc[per_row.index].to_dict("records")]
    rejects = per_row.reset_index().assign(extract=spec.name, raw_values=raw_json)
    return Checked(out, rejects, warnings.assign(extract=spec.name), len(raw))


def write_batch(con: duckdb.DuckDBPyConnection, spec: ExtractSpec, checked: Checked,
                append: bool) -> tuple[int, int, int, int]:
    """Write one checked batch into ``work.checked_<name>`` (made afresh unless
    ``append``), rejects and warnings; (rows read, staged, rejected, values nulled)."""
    target = f"{WORK}.{quote_ident('checked_' + spec.name)}"
    con.register("__checked", pyarrow.Table.from_pandas(checked.out.reset_index(),
                                                        preserve_index=False))
    con.execute(f"insert into {target} select * from __checked order by source_row"
                if append else
                f"create or replace table {target} as select * from __checked "
                "order by source_row")
    con.unregister("__checked")
    if len(checked.rejects):
        con.register("__rejects", checked.rejects)
        con.execute(f"insert into {WORK}.rejects select extract, source_row, \"column\", "
                    "problem, raw_values from __rejects")
        con.unregister("__rejects")
    if len(checked.warnings):
        con.register("__warnings", checked.warnings)
        con.execute(f"insert into {WORK}.value_warnings select extract, source_row, "
                    "\"column\", problem from __warnings")
        con.unregister("__warnings")
    return checked.n_read, len(checked.out), len(checked.rejects), len(checked.warnings)


def raw_batches(con: duckdb.DuckDBPyConnection, spec: ExtractSpec
                ) -> Iterator[pd.DataFrame]:
    """``raw_<name>`` in ``source_row`` order, ``BATCH_ROWS`` rows at a time (one empty
    batch for an empty extract, so its checked table is still made)."""
    raw_table = f"{WORK}.{quote_ident('raw_' + spec.name)}"
    (first, last) = con.execute(f"select min(source_row), max(source_row) from {raw_table}"
                                ).fetchone()
    for start in range(first, last + 1, BATCH_ROWS) if first is not None else [0]:
        batch = con.execute(f"select * from {raw_table} where source_row >= $start and "
                            "source_row < $stop order by source_row",
                            {"start": start, "stop": start + BATCH_ROWS}).to_arrow_table()
        # through Arrow: the text stays Arrow-backed (NA for null), no Python objects
        yield batch.to_pandas(types_mapper=ARROW_TYPES.get).set_index("source_row")


def validate_extracts(con: duckdb.DuckDBPyConnection, specs: dict[str, ExtractSpec],
                      as_of: pd.Timestamp) -> list[ValidationCounts]:
    """Validate every raw table into ``work.checked_<name>``, rejects and warnings.

    Batches of every extract are checked ``WORKERS`` at a time on threads, while this
    thread reads the next batch from DuckDB and writes finished ones in order: the
    connection is only ever used here, and the tables come out as one pass would make
    them."""
    totals = {name: [0, 0, 0, 0] for name in specs}  # read, staged, rejected, nulled
    pending: deque[tuple[ExtractSpec, bool, Future[Checked]]] = deque()

    def write_oldest() -> None:
        spec, append, future = pending.popleft()
        for i, count in enumerate(write_batch(con, spec, future.result(), append)):
            totals[spec.name][i] += count

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for spec in specs.values():
            for n, raw in enumerate(raw_batches(con, spec)):
                pending.append((spec, n > 0, pool.submit(check_batch, spec, as_of, raw)))
                if len(pending) > WORKERS:
                    write_oldest()
        while pending:
            write_oldest()
    load_rejected = dict(con.execute(
        f"select extract, count(*) from {WORK}.{LOAD_REJECTS} group by extract").fetchall())
    return [ValidationCounts(extract=name, rows_read=read + load_rejected.get(name, 0),
                             rows_staged=staged,
                             rows_rejected=rejected + load_rejected.get(name, 0),
                             values_nulled=nulled)
            for name, (read, staged, rejected, nulled) in totals.items()]


def validate_all(con: duckdb.DuckDBPyConnection, specs: dict[str, ExtractSpec],
                 as_of: pd.Timestamp) -> list[ValidationCounts]:
    """Validate every extract, then stage it (``sql/staging/stg_<extract>.sql``).

    The load step's rejects (ragged rows) join ``work.rejects`` first.
    """
    con.execute(f"create or replace table {WORK}.rejects as select extract, source_row as "
                f"\"row\", \"column\", problem, raw_values from {WORK}.{LOAD_REJECTS}")
    con.execute(f"create or replace table {WORK}.value_warnings (extract varchar, \"row\" "
                "bigint, \"column\" varchar, problem varchar)")
    counts = validate_extracts(con, specs, as_of)
    run_steps(con, [f"staging/stg_{name}" for name in specs])
    return counts
