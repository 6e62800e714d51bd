"""Load: extract files → ``raw_<extract>`` tables, every value as text.

Grain: one row per data row of the file, numbered ``source_row`` from 1 (header not
counted), with the file's own columns (names trimmed and lower-cased). Nothing is
judged here except what stops a file being read at all: a missing required file or
column, an unreadable encoding, a duplicated header. What a council's export tools vary
and a reader can tell is read as it comes: the encoding (BOM, UTF-8, Windows-1252), the
delimiter and quote (DuckDB's CSV sniffer), line endings. Rows with the wrong number of
fields are set aside as load rejects, numbered exactly.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import itertools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pipelines.db import WORK, RunError, quote_ident
from schemas.extracts import ExtractSpec

CHUNK = 1 << 20
LOAD_REJECTS = "load_rejects"


@dataclass(frozen=True)
class LoadedExtract:
    """What the manifest records of one extract file."""

    name: str
    path: str | None  # None: an optional extract that was not supplied
    sha256: str | None
    encoding: str | None
    rows_read: int
    columns: tuple[str, ...] = ()


def find_file(directory: Path, name: str) -> Path | None:
    """``<name>.csv`` or ``<name>.parquet`` in ``directory`` (file name case ignored)."""
    wanted = {f"{name}.csv", f"{name}.parquet"}
    found = sorted(p for p in directory.iterdir() if p.is_file() and p.name.lower() in wanted)
    if len(found) > 1:
        raise RunError(f"{directory}: both {found[0].name} and {found[1].name}; keep one")
    return found[0] if found else None


def sniff(path: Path) -> tuple[str, str]:
    """(encoding, sha256) of a CSV: BOM first, then strict UTF-8, then Windows-1252."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        head = f.read(8)
        if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
            raise RunError(f"{path.name}: this is an Excel workbook, not a CSV; "
                           "save it as CSV (UTF-8) and run again")
        f.seek(0)
        if head.startswith(codecs.BOM_UTF8):
            candidates = ["utf-8-sig"]
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            candidates = ["utf-16"]
        else:
            candidates = ["utf-8", "cp1252"]
        decoders = {enc: codecs.getincrementaldecoder(enc)() for enc in candidates}
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            for enc in list(decoders):
                try:
                    decoders[enc].decode(chunk)
                except UnicodeDecodeError:
                    del decoders[enc]
        for enc in list(decoders):
            try:
                decoders[enc].decode(b"", final=True)
            except UnicodeDecodeError:
                del decoders[enc]
    if not decoders:
        raise RunError(f"{path.name}: unreadable text encoding (not UTF-8 or Windows-1252); "
                       "save it as CSV UTF-8 and run again")
    return next(iter(decoders)), digest.hexdigest()


# DuckDB's names for the encodings :func:`sniff` finds; Windows-1252 differs from Latin-1
# only in characters that are never delimiters or quotes, which is all that is sniffed.
DUCKDB_ENCODINGS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "utf-16": "utf-16",
                    "cp1252": "latin-1"}
DELIMITERS = (",", ";", "\t", "|")


def sniff_dialect(path: Path, encoding: str) -> tuple[str, str]:
    """(delimiter, quote character) of a CSV, as DuckDB's sniffer reads a sample of it
    (rows of the wrong length skipped, as the load sets them aside): a semicolon-, tab- or
    bar-delimited export is read, not refused. Comma and ``"`` when the sniffer cannot
    tell, or when its delimiter splits the header row into fewer columns than a comma
    does."""
    try:
        with duckdb.connect() as con:
            delimiter, quote = con.execute(
                "select Delimiter, Quote from sniff_csv($path, encoding = $encoding, "
                "all_varchar = true, header = true, ignore_errors = true)",
                {"path": str(path), "encoding": DUCKDB_ENCODINGS[encoding]}).fetchone()
    except duckdb.Error:
        return ",", '"'
    quote = quote if len(quote) == 1 else '"'
    if delimiter not in DELIMITERS or delimiter == ",":
        return ",", quote

    def header_width(delim: str) -> int:
        with path.open(encoding=encoding, newline="") as f:
            return len(next(csv.reader(f, delimiter=delim, quotechar=quote), []))

    return (delimiter if header_width(delimiter) >= header_width(",") else ","), quote


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def normalise_header(path: Path, names: list[str]) -> list[str]:
    """Trim and lower-case; a blank name becomes ``column<position>`` (as DuckDB names
    one: an extra column, kept and ignored, such as the empty one a trailing delimiter
    makes); a duplicated name stops the run (which of the two to trust cannot be
    guessed)."""
    clean = [n.strip().lower() or f"column{position}"
             for position, n in enumerate(names, start=1)]
    seen: set[str] = set()
    for name in clean:
        if name in seen:
            raise RunError(f"{path.name}: column '{name}' appears twice in the header row; "
                           "rename or remove one and run again")
        seen.add(name)
    return clean


# Rows reach DuckDB a block of the file at a time, never the file whole: a region's school
# census is gigabytes, and held as one Arrow table beside DuckDB's own memory it was the
# run's peak (12.7 GiB at 2,000,000 households). 1 MiB blocks read a 700 MB census in
# 2.3 s, against 2.8 s for 8 MiB and 4.6 s for the whole file at once.
BLOCK_BYTES = 1 << 20


# Rows an export may put above its header (a title, a run date, blank lines) that are
# looked through for it.
HEADER_SEARCH_ROWS = 10


def find_header(path: Path, encoding: str, delimiter: str, quote: str,
                required: Sequence[str]) -> tuple[list[str], int]:
    """(the header row, the number of lines up to and including it): the first of the
    first ``HEADER_SEARCH_ROWS`` rows that names every ``required`` column, so that
    title or blank lines above a header are passed over; else the first row not blank
    (whose missing column then stops the run)."""
    first: tuple[list[str], int] | None = None
    with path.open(encoding=encoding, newline="") as f:
        reader = csv.reader(f, delimiter=delimiter, quotechar=quote)
        with contextlib.suppress(csv.Error):  # broken quoting: found again by the read
            for record in itertools.islice(reader, HEADER_SEARCH_ROWS):
                if not any(field.strip() for field in record):
                    continue
                first = first or (record, reader.line_num)
                if set(required) <= {field.strip().lower() for field in record}:
                    return record, reader.line_num
    if first is None:
        raise RunError(f"{path.name}: the file is empty (no header row); export it again "
                       "with its header row")
    return first


def read_csv(path: Path, encoding: str, delimiter: str = ",", quote: str = '"',
             required: Sequence[str] = ()
             ) -> tuple[list[str], Iterator[pa.RecordBatch], list[int]]:
    """(column names, the rows after the header as batches of text, a list that fills as
    the batches are read with one entry per row with the wrong number of fields, which
    is skipped).

    A skipped row shifts the numbers of every row after it, so once the batches are read
    a non-empty list means the file is read again by :func:`read_csv_exactly`."""
    header, header_lines = find_header(path, encoding, delimiter, quote, required)
    names = normalise_header(path, header)
    ragged: list[int] = []
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=header_lines,
                                           encoding=encoding.replace("-sig", ""),
                                           block_size=BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=quote,
                                             newlines_in_values=True,
                                             invalid_row_handler=lambda r: ragged.append(1)
                                             or "skip"),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise RunError(f"{path.name}: not a readable CSV ({str(exc).splitlines()[0]}); "
                       "open it in Excel, save it as CSV UTF-8 and run again") from exc
    return names, iter(reader), ragged


def read_csv_exactly(path: Path, encoding: str, delimiter: str, quote: str, names: list[str],
                     required: Sequence[str] = ()) -> tuple[pa.Table, list[dict]]:
    """Slow path for files with ragged rows: number every row exactly, set the bad ones
    apart. The good rows come back as one table with their ``source_row``. A row whose
    only extra fields are empty ones at its end (an export that ends every row with a
    delimiter) loses nothing: it is kept without them."""
    _header, header_lines = find_header(path, encoding, delimiter, quote, required)
    rows: list[list[str]] = []
    numbers: list[int] = []
    bad: list[dict] = []
    with path.open(encoding=encoding, newline="") as f:
        reader = csv.reader(f, delimiter=delimiter, quotechar=quote, strict=True)
        while reader.line_num < header_lines:
            next(reader)
        number = 0
        records = iter(reader)
        while True:
            try:
                record = next(records)
            except StopIteration:
                break
            except csv.Error as exc:  # broken quoting: nothing after it can be trusted
                raise RunError(f"{path.name}: data row {number + 1}: broken quoting "
                               f"({exc}); close the quote on that row or export the file "
                               "again") from exc
            if not record:
                continue
            number += 1
            if len(record) > len(names) and not "".join(record[len(names):]).strip():
                record = record[:len(names)]
            if len(record) != len(names):
                bad.append({
                    "source_row": number,
                    "column": None,
                    "problem": f"row has {len(record)} fields, the header has {len(names)}",
                    "raw_values": json.dumps(record, ensure_ascii=False),
                })
                continue
            rows.append(record)
            numbers.append(number)
    columns = {n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)}
    return pa.table({"source_row": pa.array(numbers, pa.int64()), **columns}), bad


def read_parquet(path: Path) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    """(column names, the rows as batches of text): dates as ISO, and a floating column
    whose every value is whole as integers (decided over the whole file first, so that
    one column is written alike in every batch)."""
    try:
        file = pq.ParquetFile(path)
        schema = file.schema_arrow
        names = normalise_header(path, schema.names)
        floats = [f.name for f in schema if pa.types.is_floating(f.type)]
        fractional = set()
        for batch in file.iter_batches(columns=floats) if floats else []:
            fractional |= {name for name, column in zip(floats, batch.columns, strict=True)
                           if pc.all(pc.equal(column, pc.floor(column))).as_py() is False}
    except (pa.ArrowInvalid, OSError) as exc:
        raise RunError(f"{path.name}: not a readable Parquet file ({exc}); export it "
                       "again or send it as CSV") from exc

    def as_text(batch: pa.RecordBatch) -> pa.RecordBatch:
        columns = []
        for field, column in zip(schema, batch.columns, strict=True):
            if pa.types.is_timestamp(field.type):
                column = pc.cast(column, pa.date32())
            elif field.name in floats and field.name not in fractional:
                column = pc.cast(column, pa.int64())
            columns.append(pc.cast(column, pa.string()))
        return pa.RecordBatch.from_arrays(columns, names=names)

    return names, (as_text(batch) for batch in file.iter_batches())


def numbered(names: list[str], batches: Iterator[pa.RecordBatch],
             failures: list[str]) -> pa.RecordBatchReader:
    """``batches`` with ``source_row`` first, numbered from 1 in order, as a stream that
    DuckDB reads once. A file unreadable part way ends the stream with its reason in
    ``failures``: the error reaches DuckDB's scan, not this module, so it is kept here to
    name the file."""
    schema = pa.schema([("source_row", pa.int64()), *((n, pa.string()) for n in names)])

    def stream() -> Iterator[pa.RecordBatch]:
        first = 1
        try:
            for batch in batches:
                rows = pa.array(np.arange(first, first + batch.num_rows), pa.int64())
                yield pa.RecordBatch.from_arrays([rows, *batch.columns], schema=schema)
                first += batch.num_rows
        except (pa.ArrowInvalid, OSError) as exc:
            failures.append(str(exc).splitlines()[0])

    return pa.RecordBatchReader.from_batches(schema, stream())


def store(con: duckdb.DuckDBPyConnection, target: str,
          rows: pa.Table | pa.RecordBatchReader) -> int:
    """``target`` made afresh from ``rows`` in ``source_row`` order; its row count."""
    con.register("__load", rows)
    try:
        con.execute(f"create or replace table {target} as select * from __load "
                    "order by source_row")
    finally:
        con.unregister("__load")
    (n,) = con.execute(f"select count(*) from {target}").fetchone()
    return n


def missing_extract(directory: Path, name: str) -> str:
    return (f"{directory / (name + '.csv')}: required extract is missing; put the agency's "
            f"export there as {name}.csv (or .parquet) and run again")


def load_extract(con: duckdb.DuckDBPyConnection, spec: ExtractSpec,
                 directory: Path) -> LoadedExtract:
    """Read one extract into ``work.raw_<name>`` (an empty table when it was not supplied)."""
    target = f"{WORK}.{quote_ident('raw_' + spec.name)}"
    path = find_file(directory, spec.name)
    if path is None:
        if spec.required:
            raise RunError(missing_extract(directory, spec.name))
        cols = ", ".join(f"null::varchar as {quote_ident(c)}" for c in spec.columns)
        con.execute(f"create or replace table {target} as "
                    f"select null::bigint as source_row, {cols} limit 0")
        return LoadedExtract(spec.name, None, None, None, 0)
    ragged: list[int] = []
    if path.suffix.lower() == ".parquet":
        encoding, sha, kind = None, file_sha256(path), "Parquet file"
        names, batches = read_parquet(path)
    else:
        (encoding, sha), kind = sniff(path), "CSV"
        dialect = sniff_dialect(path, encoding)
        names, batches, ragged = read_csv(path, encoding, *dialect, spec.required_columns)
    missing = [c for c in spec.required_columns if c not in names]
    if missing:
        raise RunError(f"{path.name}: required column '{missing[0]}' is missing from the "
                       "header row; export the file with it (docs/extracts.md lists the "
                       "columns)")
    failures: list[str] = []
    rows = store(con, target, numbered(names, batches, failures))
    if failures:
        raise RunError(f"{path.name}: not a readable {kind} ({failures[0]}); export it "
                       "again")
    bad: list[dict] = []
    if ragged:
        table, bad = read_csv_exactly(path, encoding, *dialect, names,
                                      spec.required_columns)
        rows = store(con, target, table)
    if bad:
        con.executemany(
            f"insert into {WORK}.{LOAD_REJECTS} values (?, ?, ?, ?, ?)",
            [[spec.name, b["source_row"], b["column"], b["problem"], b["raw_values"]] for b in bad],
        )
    return LoadedExtract(spec.name, str(path), sha, encoding, rows + len(bad), tuple(names))


def load_all(con: duckdb.DuckDBPyConnection, directory: Path,
             specs: dict[str, ExtractSpec]) -> list[LoadedExtract]:
    """Load every extract; required ones first so a missing one fails before any work."""
    if not directory.is_dir():
        raise RunError(f"{directory}: extracts folder not found")
    for spec in specs.values():
        if spec.required and find_file(directory, spec.name) is None:
            raise RunError(missing_extract(directory, spec.name))
    con.execute(f"create or replace table {WORK}.{LOAD_REJECTS} (extract varchar, source_row "
                "bigint, \"column\" varchar, problem varchar, raw_values varchar)")
    return [load_extract(con, spec, directory) for spec in specs.values()]
