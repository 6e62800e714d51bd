"""Exports: CSV cells Excel reads safely, and outputs replaced only when a run succeeds."""

from __future__ import annotations

import csv
import datetime as dt
import stat

import duckdb
import pytest

from pipelines import exports, publish
from pipelines.db import connect

D = dt.date


@pytest.mark.parametrize(("value", "cell"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+44 151", "'+44 151"),
    ("-Smith", "'-Smith"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tTabbed", "'\tTabbed"),
    ("\rReturn", "'\rReturn"),
    ("O'Brien", "O'Brien"),
    ("Smith-Jones", "Smith-Jones"),
    (True, "true"),
    (False, "false"),
    (dt.date(2025, 3, 1), "2025-03-01"),
    (dt.datetime(2025, 3, 1, 12, 30), "2025-03-01"),
    (None, ""),
    (-3, "-3"),       # a number is not text: left alone
    (18.5, "18.5"),
])
def test_cells_are_safe_for_excel(value, cell, tmp_path):
    path = tmp_path / "x.csv"
    with duckdb.connect() as con:
        exports.export_table(con, "select 'F1' as family_id, $v as x", path, {"v": value})
    with path.open(encoding="utf-8-sig", newline="") as f:
        assert list(csv.DictReader(f)) == [{"family_id": "F1", "x": cell}]


def test_csv_is_utf8_with_bom_and_crlf_in_the_query_order(tmp_path):
    path = tmp_path / "x.csv"
    with duckdb.connect() as con:
        exports.export_table(con, """select * from (values ('F3', 'Zoë'), ('F2', '=1+1'),
            ('F1', 'Ann')) as t(family_id, name) order by family_id desc""", path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig") == "family_id,name\r\nF3,Zoë\r\nF2,'=1+1\r\nF1,Ann\r\n"


def test_outputs_replace_the_old_ones_only_when_all_are_written(tmp_path):
    out = tmp_path / "out"
    with publish.staged_outputs(out, "run1") as folder:
        (folder / "cohort_families.csv").write_text("first")
    with pytest.raises(RuntimeError), publish.staged_outputs(out, "run2") as folder:
        (folder / "cohort_families.csv").write_text("second")
        raise RuntimeError("the run failed here")
    assert (out / "cohort_families.csv").read_text() == "first"
    assert sorted(p.name for p in out.iterdir()) == ["cohort_families.csv"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE((out / "cohort_families.csv").stat().st_mode) == 0o600


@pytest.mark.parametrize(("written", "shown"), [
    ("MEGAN", "Megan"),                 # a source that shouts
    ("megan", "Megan"),
    ("Calmore", "Calmore"),             # as written at source
    ("McDonald", "McDonald"),
    ("Mcdonald", "Mcdonald"),           # the source's own mixed case is kept
    ("MCDONALD", "McDonald"),
    ("MCA", "Mca"),                     # Mc needs two letters after it
    ("MACDONALD", "MacDonald"),
    ("MACLEOD", "MacLeod"),             # four letters after Mac
    ("MACKIE", "Mackie"),               # three: not a Mac name
    ("MACHIN", "Machin"),
    ("MACEY", "Macey"),
    ("MACKINTOSH", "Mackintosh"),       # usually written without
    ("MACIOCIA", "Maciocia"),           # ending a, c, i, o, z or j: not a Mac name
    ("O'BRIEN", "O'Brien"),
    ("D’ARCY", "D’Arcy"),
    ("SMITH-JONES", "Smith-Jones"),
    ("O'NEILL-MCCARTHY", "O'Neill-McCarthy"),
    ("MARY ANN", "Mary Ann"),
    ("ÉLODIE", "Élodie"),
    ("J", "J"),
    ("ST. JOHN", "St. John"),
    ("@SUM(A1)", "@SUM(A1)"),          # not a name: as written
    ("R2D2", "R2D2"),
    (None, None),
])
def test_names_in_one_case_as_written_or_title_cased_when_shouted(written, shown):
    with connect(":memory:") as con:
        assert con.execute("select display_name($n)", {"n": written}).fetchone()[0] == shown


@pytest.mark.parametrize(("labels", "dates", "read"), [
    ([], [D(2024, 9, 16), D(2024, 10, 21), D(2024, 11, 4)], "16 Sep, 21 Oct, 4 Nov 2024"),
    ([], [D(2024, 12, 9), D(2025, 1, 6)], "9 Dec 2024, 6 Jan 2025"),
    ([], [D(2025, 3, 1)], "1 Mar 2025"),
    (["asbo", "cbo"], [D(2024, 12, 9), D(2025, 1, 6)], "asbo 9 Dec 2024, cbo 6 Jan 2025"),
    (["caution", "caution"], [D(2025, 2, 1), D(2025, 2, 1)], "caution 1 Feb, caution 1 Feb 2025"),
])
def test_dates_read_aloud_with_the_year_once_per_run(labels, dates, read):
    with connect(":memory:") as con:
        got = con.execute("select date_list($l::varchar[], $d::date[])",
                          {"l": labels, "d": dates}).fetchone()[0]
    assert got == read


def test_rejects_have_a_column_per_raw_field(tmp_path):
    """Two extracts' rejects: the fields they share once, each extract's own after; a raw
    field named like a fixed column is headed raw_<name>; JSON nowhere."""
    path = tmp_path / "rejects.csv"
    with duckdb.connect() as con:
        con.execute("""create table rejects as select * from (values
            ('benefits', 2, 'claim_start', 'not a date',
             '{"forename": "Ann", "surname": "Lee", "claim_start": "31/02/2025"}'),
            ('asb', 5, 'asb_ref', 'missing value',
             '{"forename": "=Bo", "surname": "Day", "asb_ref": "", "row": "7"}'),
            ('asb', 1, 'asb_ref', 'missing value', null))
            as t(extract, "row", "column", problem, raw_values)""")
        assert exports.export_rejects(con, "rejects", path) == 3
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [
        ["extract", "row", "column", "problem", "forename", "surname", "asb_ref", "raw_row",
         "claim_start"],
        ["asb", "1", "asb_ref", "missing value", "", "", "", "", ""],
        ["asb", "5", "asb_ref", "missing value", "'=Bo", "Day", "", "7", ""],
        ["benefits", "2", "claim_start", "not a date", "Ann", "Lee", "", "", "31/02/2025"],
    ]


def test_rejects_without_rows_are_a_header(tmp_path):
    path = tmp_path / "rejects.csv"
    with duckdb.connect() as con:
        con.execute("""create table rejects (extract varchar, "row" bigint, "column" varchar,
            problem varchar, raw_values varchar)""")
        assert exports.export_rejects(con, "rejects", path) == 0
    assert path.read_bytes() == b"\xef\xbb\xbfextract,row,column,problem\r\n"
