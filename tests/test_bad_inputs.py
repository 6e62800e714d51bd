"""The bad-input corpus (tests/data/bad/): each file as it really arrives, and what must
happen: a clear one-line error naming the file, or the bad rows rejected with reasons and
the rest kept. Never a crash, never a silent loss."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.db import RunError
from tests.build import Extracts, case_row, screen

BAD = Path(__file__).parent / "data" / "bad"


def folder_with(extracts: Extracts, name: str) -> Path:
    """The required extracts, header only, with one of them replaced by a corpus file."""
    folder = extracts.write()
    _what, extract, _ = name.rsplit(".", 2)
    shutil.copy(BAD / name, folder / f"{extract}.csv")
    return folder


def run(extracts: Extracts, tmp_path: Path, name: str):
    result, counts = screen(folder_with(extracts, name), tmp_path / "out")
    return duckdb.connect(str(result.db), read_only=True), counts


def staged_and_rejected(con, extract: str) -> tuple[list[int], list[tuple]]:
    staged = [r for (r,) in con.execute(f"select source_row from work.stg_{extract} "
                                        "order by 1").fetchall()]
    rejected = con.execute("""select source_row, column_name, problem from rejects
        where extract_name = $e order by 1""", {"e": extract}).fetchall()
    return staged, rejected


@pytest.mark.parametrize(("name", "message"), [
    ("empty.benefits.csv", "benefits.csv: the file is empty (no header row)"),
    ("excel_saved_as.benefits.csv", "benefits.csv: this is an Excel workbook, not a CSV"),
    ("duplicated_header.benefits.csv", "benefits.csv: column 'nino' appears twice"),
    ("open_quote.benefits.csv", "benefits.csv: data row 2: "),
])
def test_files_that_cannot_be_read_stop_with_one_line(extracts, tmp_path, name, message):
    with pytest.raises(RunError) as err:
        screen(folder_with(extracts, name), tmp_path / "out")
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)
    con = duckdb.connect(str(tmp_path / "out" / "familyscreen.duckdb"), read_only=True)
    assert con.execute("select status, failed_step from runs").fetchall() == \
        [("failed", "load")]
    assert not (tmp_path / "out" / "cohort_families.csv").exists()


def test_header_only_file_is_an_empty_extract(extracts, tmp_path):
    _con, counts = run(extracts, tmp_path, "header_only.benefits.csv")
    assert counts["rows_read"] == 0


def test_semicolon_export_is_read(extracts, tmp_path):
    con, counts = run(extracts, tmp_path, "semicolon.benefits.csv")
    assert counts["rows_staged"] == 1
    assert con.execute("select forename, surname from persons").fetchall() == [("Ann", "Lee")]


def test_utf16_export_is_read(extracts, tmp_path):
    con, _ = run(extracts, tmp_path, "utf16_export.benefits.csv")
    assert con.execute("select forename, surname from persons").fetchall() == \
        [("Zoë", "Ó Súilleabháin")]


def test_ragged_rows_are_rejected_and_the_rest_kept(extracts, tmp_path):
    con, counts = run(extracts, tmp_path, "ragged_rows.benefits.csv")
    staged, rejected = staged_and_rejected(con, "benefits")
    assert staged == [1, 3, 5]
    assert [(r, p) for r, _, p in rejected] == [
        (2, "row has 3 fields, the header has 9"), (4, "row has 11 fields, the header has 9")]
    assert counts["rows_read"] == 5


@pytest.mark.parametrize(("name", "extract", "row", "column", "problem"), [
    ("us_dates.benefits.csv", "benefits", 1, "claim_start", "not a date"),
    ("negative_sessions.school_attendance.csv", "school_attendance", 1, "sessions_possible",
     "not a whole number"),
])
def test_bad_rule_values_reject_their_row(extracts, tmp_path, name, extract, row, column,
                                          problem):
    con, _ = run(extracts, tmp_path, name)
    staged, rejected = staged_and_rejected(con, extract)
    assert staged == [2]
    assert rejected[0][0] == row and rejected[0][1].split(";")[0] == column
    assert rejected[0][2].startswith(problem)


@pytest.mark.parametrize(("name", "column", "problem"), [
    ("future_dates.benefits.csv", "date_of_birth", "date after the as-of date 2025-09-30"),
    ("long_name.benefits.csv", "forename", "longer than 100 characters"),
])
def test_bad_person_values_are_nulled_and_the_row_kept(extracts, tmp_path, name, column,
                                                       problem):
    con, _ = run(extracts, tmp_path, name)
    staged, rejected = staged_and_rejected(con, "benefits")
    assert rejected == [] and staged[0] == 1
    warnings = con.execute("select source_row, column_name, problem from value_warnings"
                           ).fetchall()
    assert (1, column, problem) in warnings


def test_one_person_with_many_rows_is_one_person(extracts, tmp_path):
    con, counts = run(extracts, tmp_path, "one_person_five_times.benefits.csv")
    assert counts["rows_staged"] == 61
    assert con.execute("select count(*) from persons").fetchone()[0] == 2
    assert con.execute("select n_records from persons where nino = 'AB123456C'"
                       ).fetchone()[0] == 60


def test_formula_names_reach_excel_as_text(extracts, tmp_path):
    """Names beginning with = and @ are kept as given, and neutralised in the CSVs."""
    con, _ = run(extracts, tmp_path, "formula_names.benefits.csv")
    assert con.execute("select forename, surname from persons").fetchall() == \
        [('=HYPERLINK("http://x","click")', "@SUM(A1)")]
    # the same names in a family that qualifies, so they reach cohort_members.csv
    ex = Extracts(tmp_path / "qualifying")
    names = {"forename": '=HYPERLINK("http://x","click")', "surname": "@SUM(A1)"}
    for extract, who, row in [
        ("benefits", "adult", {"benefit": "jsa", "claim_start": "2024-01-01"}),
        ("asb", "adult", {"record_type": "intervention", "date": "2025-03-01", "type": "abc"}),
        ("local_indicators", "adult", {"indicator": "neet", "recorded_date": "2025-03-01"}),
    ]:
        ex.add(extract, **{**case_row(1, extract, who, row), **names})
    _result, counts = screen(ex.write(), tmp_path / "out2")
    assert counts["cohort"] == 1
    with (tmp_path / "out2" / "cohort_members.csv").open(encoding="utf-8-sig") as f:
        cells = [c for row in csv.reader(f) for c in row]
    assert "'=HYPERLINK(\"http://x\",\"click\")" in cells and "'@SUM(A1)" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
