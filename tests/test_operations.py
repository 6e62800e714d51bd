"""Operating it: checking extracts, listing runs, pseudonymised views, progress."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines import analyst, cli
from pipelines.db import RunError
from synthetic import borough
from tests.build import AS_OF, screen


@pytest.fixture(scope="module")
def screened(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ops")
    borough.generate(folder / "extracts", households=120, seed=21, as_of=AS_OF, noise=1)
    run, _ = screen(folder / "extracts", folder / "out")
    return run.db


def test_validate_prints_counts_and_reasons_and_writes_nothing(tmp_path, capsys):
    borough.generate(tmp_path / "x", households=60, seed=2, as_of=AS_OF, noise=1)
    before = sorted(p.name for p in (tmp_path / "x").iterdir())
    assert cli.main(["validate", "--extracts", str(tmp_path / "x"), "--as-of", "2025-09-30"]) \
        == 0
    text = capsys.readouterr().out
    assert "local_indicators.csv (" in text
    assert "benefits.nino: not a valid National Insurance number" in text
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == before


def test_validate_names_a_missing_file(tmp_path, capsys):
    assert cli.main(["validate", "--extracts", str(tmp_path)]) == 2
    assert "school_attendance.csv: required extract is missing" in capsys.readouterr().err


def test_runs_lists_runs_newest_first(screened, capsys):
    assert cli.main(["runs", "--db", str(screened)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["run_id", "command", "as_of", "status"]
    assert "screen  2025-09-30 succeeded phase1 2012.1" in lines[1]


def test_runs_on_a_missing_database_is_a_one_line_error(tmp_path, capsys):
    assert cli.main(["runs", "--db", str(tmp_path / "none.duckdb")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_pseudonymised_views_fail_closed_without_a_salt(screened):
    con = duckdb.connect(str(screened), read_only=True)
    with pytest.raises(duckdb.Error, match="need a salt"):
        con.execute("select * from persons_pseudo").fetchall()


def test_pseudonymised_views_show_no_names_or_identifiers(screened, monkeypatch):
    monkeypatch.setenv(analyst.SALT_VARIABLE, "a-council-secret-of-some-length")
    con = analyst.connect_pseudonymised(screened)
    plain = duckdb.connect(str(screened), read_only=True)
    secrets = {v for row in plain.execute(
        "select forename, surname, upn, nino, police_ref, asb_ref, person_id, address "
        "from persons").fetchall() for v in row if v}
    family_ids = {f for (f,) in plain.execute("select family_id from families").fetchall()}
    views = [v for (v,) in con.execute("select view_name from duckdb_views() "
                                       "where view_name like '%_pseudo'").fetchall()]
    assert {"persons_pseudo", "cohort_pseudo", "family_members_pseudo"} <= set(views)
    for view in views:
        cells = {str(v) for row in con.execute(f"select * from {view}").fetchall() for v in row}
        assert not cells & (secrets | family_ids), view
    first = con.execute("select pseudo_person_id from persons_pseudo order by 1 limit 1"
                        ).fetchone()[0]
    con.execute("set variable pseudo_salt = 'another-secret-entirely'")
    assert con.execute("select pseudo_person_id from persons_pseudo order by 1 limit 1"
                       ).fetchone()[0] != first


def test_a_short_salt_is_refused(screened, monkeypatch):
    monkeypatch.setenv(analyst.SALT_VARIABLE, "short")
    with pytest.raises(RunError, match="at least 16 characters"):
        analyst.connect_pseudonymised(screened)
