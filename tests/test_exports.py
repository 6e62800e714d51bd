"""Exports: CSV cells Excel reads safely, and outputs replaced only when a run succeeds."""

from __future__ import annotations

import csv
import datetime as dt
import stat

import duckdb
import pytest

from pipelines import exports


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
    with exports.staged_outputs(out, "run1") as folder:
        (folder / "cohort_families.csv").write_text("first")
    with pytest.raises(RuntimeError), exports.staged_outputs(out, "run2") as folder:
        (folder / "cohort_families.csv").write_text("second")
        raise RuntimeError("the run failed here")
    assert (out / "cohort_families.csv").read_text() == "first"
    assert sorted(p.name for p in out.iterdir()) == ["cohort_families.csv"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE((out / "cohort_families.csv").stat().st_mode) == 0o600
