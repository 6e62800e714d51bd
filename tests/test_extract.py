"""Load step: files as agencies hand them over → raw tables, or a one-line fatal error."""

from __future__ import annotations

import codecs
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines import extract
from pipelines.db import RunError, connect
from schemas import EXTRACTS

SPEC = EXTRACTS["benefits"]
HEADER = "forename,surname,date_of_birth,address,postcode,nino,benefit,claim_start,claim_end"
ROW = "Ann,Lee,2001-02-03,1 High St,CH41 1AA,AB123456C,jsa,2024-01-01,"


@pytest.fixture
def con():
    with connect(":memory:") as c:
        c.execute("create table work.load_rejects (extract varchar, source_row bigint, "
                  "\"column\" varchar, problem varchar, raw_values varchar)")
        yield c


def write(folder: Path, data: bytes, name: str = "benefits.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder


def raw(con, name="benefits"):
    return con.execute(f"select * from work.raw_{name} order by source_row").df()


@pytest.mark.parametrize(("label", "data", "encoding"), [
    ("utf-8", f"{HEADER}\nZoë,O’Brien,,,,AB123456C,jsa,2024-01-01,\n".encode(), "utf-8"),
    ("utf-8 with BOM",
     codecs.BOM_UTF8 + f"{HEADER}\nZoë,O’Brien,,,,AB123456C,jsa,2024-01-01,\n".encode(),
     "utf-8-sig"),
    ("windows-1252",
     f"{HEADER}\nZoë,O’Brien,,,,AB123456C,jsa,2024-01-01,\n".encode("cp1252"), "cp1252"),
    ("utf-16 with BOM",
     f"{HEADER}\nZoë,O’Brien,,,,AB123456C,jsa,2024-01-01,\n".encode("utf-16"), "utf-16"),
])
def test_encodings_are_detected_not_assumed(con, tmp_path, label, data, encoding):
    loaded = extract.load_extract(con, SPEC, write(tmp_path, data))
    assert loaded.encoding == encoding, label
    df = raw(con)
    assert df.loc[0, "forename"] == "Zoë"
    assert df.loc[0, "surname"] == "O’Brien"


def test_headers_match_case_insensitively_after_trimming_and_extras_are_kept(con, tmp_path):
    header = " Forename ,SURNAME,date_of_birth,Address,postcode,NINO,benefit,claim_start," \
             "claim_end,Caseworker Notes"
    write(tmp_path, f"{header}\n{ROW},keep me\n".encode())
    extract.load_extract(con, SPEC, tmp_path)
    df = raw(con)
    assert list(df.columns[:3]) == ["source_row", "forename", "surname"]
    assert df.loc[0, "caseworker notes"] == "keep me"


def test_source_rows_count_data_rows_from_one(con, tmp_path):
    write(tmp_path, f"{HEADER}\n{ROW}\n{ROW}\n{ROW}\n".encode())
    loaded = extract.load_extract(con, SPEC, tmp_path)
    assert loaded.rows_read == 3
    assert raw(con)["source_row"].tolist() == [1, 2, 3]


def test_quoted_newlines_stay_inside_one_row(con, tmp_path):
    row = 'Ann,Lee,2001-02-03,"Flat 2\n14 Church Rd",CH41 1AA,AB123456C,jsa,2024-01-01,'
    write(tmp_path, f"{HEADER}\n{row}\n{ROW}\n".encode())
    extract.load_extract(con, SPEC, tmp_path)
    df = raw(con)
    assert len(df) == 2
    assert df.loc[0, "address"] == "Flat 2\n14 Church Rd"


def test_ragged_rows_are_set_aside_and_later_rows_keep_their_numbers(con, tmp_path):
    write(tmp_path, f"{HEADER}\n{ROW}\nAnn,Lee,too,few\n{ROW}\n{ROW},extra\n{ROW}\n".encode())
    loaded = extract.load_extract(con, SPEC, tmp_path)
    assert loaded.rows_read == 5
    assert raw(con)["source_row"].tolist() == [1, 3, 5]
    rejects = con.execute("select source_row, problem from work.load_rejects "
                          "order by source_row").fetchall()
    assert [r[0] for r in rejects] == [2, 4]
    assert "4 fields, the header has 9" in rejects[0][1]


def test_header_only_file_is_an_empty_extract(con, tmp_path):
    write(tmp_path, f"{HEADER}\n".encode())
    assert extract.load_extract(con, SPEC, tmp_path).rows_read == 0
    assert raw(con).empty


@pytest.mark.parametrize(("data", "message"), [
    (b"", "benefits.csv: the file is empty (no header row)"),
    (HEADER.replace(",nino", "").encode() + b"\n", "benefits.csv: required column 'nino' is "
                                                   "missing"),
    (f"{HEADER},NINO\n".encode(), "benefits.csv: column 'nino' appears twice in the header row"),
    (b"PK\x03\x04\x14\x00\x06\x00", "benefits.csv: this is an Excel workbook, not a CSV"),
    (b"forename\n\x81\x8d\x8f\n", "benefits.csv: unreadable text encoding"),
])
def test_files_that_cannot_be_read_stop_the_run_naming_file_and_column(con, tmp_path, data,
                                                                        message):
    write(tmp_path, data)
    with pytest.raises(RunError) as err:
        extract.load_extract(con, SPEC, tmp_path)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("label", "data"), [
    ("semicolons, Windows-1252, CRLF",
     f"{HEADER}\r\n{ROW}\r\n".replace(",", ";").replace("Ann", "Zoë").encode("cp1252")),
    ("semicolons, quoted field holding one, BOM",
     codecs.BOM_UTF8 + f'{HEADER}\n{ROW}\n'.replace(",", ";")
     .replace("1 High St", '"1; High St"').replace("Ann", "Zoë").encode()),
    ("tabs", f"{HEADER}\n{ROW}\n".replace(",", "\t").replace("Ann", "Zoë").encode()),
    ("bars, UTF-16", f"{HEADER}\n{ROW}\n".replace(",", "|").replace("Ann", "Zoë")
     .encode("utf-16")),
    ("commas, CRLF", f"{HEADER}\r\n{ROW}\r\n".replace("Ann", "Zoë").encode()),
])
def test_delimiters_and_line_endings_the_sniffer_reads_are_read(con, tmp_path, label, data):
    loaded = extract.load_extract(con, SPEC, write(tmp_path, data))
    df = raw(con)
    assert loaded.rows_read == 1, label
    assert df.loc[0, "forename"] == "Zoë"
    assert df.loc[0, "address"] in ("1 High St", "1; High St")
    assert df.loc[0, "claim_end"] == ""  # the last field, with no line ending left in it


def test_a_trailing_delimiter_names_its_empty_column_and_keeps_the_rest(con, tmp_path):
    write(tmp_path, f"{HEADER},\n{ROW},\n".encode())
    loaded = extract.load_extract(con, SPEC, tmp_path)
    assert loaded.columns[-1] == "column10"
    assert raw(con).loc[0, "nino"] == "AB123456C"


@pytest.mark.parametrize(("label", "above"), [
    ("a blank line", "\n"),
    ("a title", "Benefits extract September 2025\n"),
    ("a title, a date and a blank line", "Benefits extract\nRun on,2025-09-30\n\n"),
])
def test_lines_above_the_header_are_passed_over(con, tmp_path, label, above):
    write(tmp_path, f"{above}{HEADER}\n{ROW}\n{ROW}\n".encode())
    loaded = extract.load_extract(con, SPEC, tmp_path)
    assert loaded.rows_read == 2, label
    assert raw(con)["source_row"].tolist() == [1, 2]  # data rows count from the header
    assert raw(con).loc[0, "forename"] == "Ann"


def test_a_header_is_looked_for_in_the_first_ten_rows_only(con, tmp_path):
    write(tmp_path, ("title\n" * 10 + f"{HEADER}\n{ROW}\n").encode())
    with pytest.raises(RunError, match="required column 'forename' is missing"):
        extract.load_extract(con, SPEC, tmp_path)
    write(tmp_path, ("title\n" * 9 + f"{HEADER}\n{ROW}\n").encode())
    assert extract.load_extract(con, SPEC, tmp_path).rows_read == 1


def test_empty_fields_ending_every_data_row_are_dropped_and_other_extras_rejected(con,
                                                                                   tmp_path):
    write(tmp_path, f"{HEADER}\n{ROW},\n{ROW},,\n{ROW},x\n".encode())
    loaded = extract.load_extract(con, SPEC, tmp_path)
    assert loaded.rows_read == 3
    assert raw(con)["source_row"].tolist() == [1, 2]
    assert con.execute("select source_row from work.load_rejects").fetchall() == [(3,)]


def test_missing_required_extract_is_fatal_and_optional_one_is_empty(con, tmp_path):
    tmp_path.mkdir(exist_ok=True)
    with pytest.raises(RunError, match=r"benefits\.csv: required extract is missing"):
        extract.load_extract(con, SPEC, tmp_path)
    loaded = extract.load_extract(con, EXTRACTS["gazetteer"], tmp_path)
    assert loaded.path is None and loaded.rows_read == 0
    assert raw(con, "gazetteer").empty


def test_csv_and_parquet_of_one_extract_is_ambiguous(con, tmp_path):
    write(tmp_path, f"{HEADER}\n".encode())
    write(tmp_path, b"x", "benefits.parquet")
    with pytest.raises(RunError, match="keep one"):
        extract.load_extract(con, SPEC, tmp_path)


def test_parquet_columns_become_text_with_iso_dates_and_whole_numbers(con, tmp_path):
    import datetime as dt
    table = pa.table({
        "UPRN": pa.array([100.0, 200.0]), "address": ["1 High St", "2 High St"],
        "postcode": ["CH41 1AA", "CH41 1AB"], "ward": ["Oxton", "Oxton"],
        "surveyed": pa.array([dt.datetime(2024, 5, 1), dt.datetime(2024, 6, 2)]),
    })
    tmp_path.mkdir(exist_ok=True)
    pq.write_table(table, tmp_path / "gazetteer.parquet")
    loaded = extract.load_extract(con, EXTRACTS["gazetteer"], tmp_path)
    assert loaded.encoding is None and loaded.rows_read == 2
    df = raw(con, "gazetteer")
    assert df["uprn"].tolist() == ["100", "200"]
    assert df["surveyed"].tolist() == ["2024-05-01", "2024-06-02"]


def test_a_file_of_many_blocks_is_numbered_across_them_and_ragged_rows_found_in_any(
        con, tmp_path, monkeypatch):
    """Files reach DuckDB a block at a time: numbering carries on from block to block,
    and a ragged row in a late block still sets the whole file apart for exact numbers."""
    monkeypatch.setattr(extract, "BLOCK_BYTES", 4096)
    rows = [ROW.replace("Ann", f"Ann{i}") for i in range(1, 2001)]
    write(tmp_path, (HEADER + "\n" + "\n".join(rows) + "\n").encode())
    assert extract.load_extract(con, SPEC, tmp_path).rows_read == 2000
    df = raw(con)
    assert df["source_row"].tolist() == list(range(1, 2001))
    assert (df["forename"] == [f"Ann{i}" for i in range(1, 2001)]).all()
    rows[1899] = "Ann,Lee,too,few"
    write(tmp_path, (HEADER + "\n" + "\n".join(rows) + "\n").encode())
    assert extract.load_extract(con, SPEC, tmp_path).rows_read == 2000
    df = raw(con)
    assert len(df) == 1999 and 1900 not in df["source_row"].tolist()
    assert df.loc[df["source_row"] == 1901, "forename"].item() == "Ann1901"
    assert con.execute("select source_row from work.load_rejects").fetchall() == [(1900,)]


def test_a_parquet_column_is_written_alike_in_every_batch(con, tmp_path):
    """Whole floats become integers only where the whole file's values are whole: a
    fractional value in a later batch keeps the column's earlier values as decimals too."""
    n = 70_000  # more than one batch of pyarrow's 65,536 rows
    uprn = [100012345678.0 + i for i in range(n)]  # a float's own text: 1.00012345678e+11
    parcel = [100012345678.0] * (n - 1) + [2.5]
    table = pa.table({"uprn": uprn, "address": ["1 High St"] * n, "postcode": ["CH41 1AA"] * n,
                      "ward": ["Oxton"] * n, "parcel": parcel})
    tmp_path.mkdir(exist_ok=True)
    pq.write_table(table, tmp_path / "gazetteer.parquet")
    assert extract.load_extract(con, EXTRACTS["gazetteer"], tmp_path).rows_read == n
    df = raw(con, "gazetteer")
    assert df["uprn"].iloc[[0, -1]].tolist() == ["100012345678", str(100012345678 + n - 1)]
    assert df["parcel"].iloc[[0, -1]].tolist() == ["1.00012345678e+11", "2.5"]
