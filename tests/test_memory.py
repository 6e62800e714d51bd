"""Memory as a setting (``FAMILYSCREEN_MEMORY_LIMIT``, ``--memory-limit``) and the peak
each step's progress line reports."""

from __future__ import annotations

import logging
import os

import duckdb
import pytest

from pipelines import cli, db, flows
from pipelines.db import MEMORY_LIMIT, RunError
from tests.build import screen


def as_duckdb_shows(size: str) -> str:
    con = duckdb.connect()
    con.execute(f"set memory_limit = '{size}'")
    return con.execute("select current_setting('memory_limit')").fetchone()[0]


def test_the_setting_is_the_limit_of_the_run_database(monkeypatch, tmp_path):
    monkeypatch.setenv(MEMORY_LIMIT, " 3GB ")
    with db.connect(tmp_path / "familyscreen.duckdb") as con:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == \
            as_duckdb_shows("3GB")


@pytest.mark.parametrize("value", ["lots", "8", "8 parsecs", "-1GB", "1.GB"])
def test_a_setting_that_is_not_a_size_stops_the_run_naming_it(monkeypatch, value):
    monkeypatch.setenv(MEMORY_LIMIT, value)
    with pytest.raises(RunError) as raised:
        db.memory_limit()
    assert str(raised.value) == (f"FAMILYSCREEN_MEMORY_LIMIT: {value!r} is not a memory "
                                 "size; give one such as 8GB, 6GiB or 512MB")


def test_without_a_setting_the_limit_is_two_fifths_of_the_machine(monkeypatch):
    monkeypatch.delenv(MEMORY_LIMIT, raising=False)
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert db.memory_limit() == f"{max(1, int(total * 0.4 / 2**30))}GiB"


def test_the_flag_sets_the_limit_of_the_run_before_the_engine_starts(monkeypatch, tmp_path,
                                                                     capsys):
    seen = []

    def flow(**parameters):
        seen.append(db.memory_limit())
        raise RunError("stopped here by the test")

    monkeypatch.setattr(flows, "screen", flow)
    monkeypatch.delenv(MEMORY_LIMIT, raising=False)  # and put back as it was after
    code = cli.main(["screen", "--extracts", str(tmp_path), "--as-of", "2025-09-30",
                     "--out", str(tmp_path / "out"), "--memory-limit", "2GB"])
    assert (code, seen) == (2, ["2GB"])
    assert capsys.readouterr().err.strip().splitlines()[-1] == \
        "familyscreen: stopped here by the test"


def test_a_flag_that_is_not_a_size_is_one_line_and_nothing_starts(monkeypatch, tmp_path,
                                                                   capsys):
    monkeypatch.setattr(flows, "screen", lambda **parameters: pytest.fail("the run started"))
    monkeypatch.delenv(MEMORY_LIMIT, raising=False)
    code = cli.main(["screen", "--extracts", str(tmp_path), "--as-of", "2025-09-30",
                     "--out", str(tmp_path / "out"), "--memory-limit", "lots"])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "familyscreen: --memory-limit: 'lots' is not a memory size; give one such as 8GB, "
        "6GiB or 512MB")
    assert not (tmp_path / "out").exists()


def test_each_step_says_the_memory_peak_so_far(extracts, tmp_path, caplog):
    extracts.write()
    with caplog.at_level(logging.INFO, logger="familyscreen"):
        screen(extracts.folder, tmp_path / "out")
    done = [r.getMessage() for r in caplog.records if " done in " in r.getMessage()]
    assert [line.split("] ")[1].split()[0] for line in done] == [
        "load", "validate", "warnings", "standardise", "link", "households", "criteria",
        "cohort", "outputs"]
    peaks = [float(line.split("memory peak so far ")[1].removesuffix(" GiB"))
             for line in done]
    assert peaks == sorted(peaks) and peaks[0] > 0
