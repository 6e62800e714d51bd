"""Debug mode: the step runner keeps every step's intermediate tables (each CTE of its
SQL file) in the ``debug`` schema; off by default."""

from __future__ import annotations

import json

import duckdb
import pytest

from pipelines import SQL_DIR, db, runs, steps
from pipelines.db import connect, materialise
from synthetic import borough
from tests.build import AS_OF

NOT_STEPS = {"macros.sql", "schema.sql", "pseudo_views.sql", "named_views.sql"}


def test_materialise_keeps_each_cte_with_the_parameters_bound():
    con = connect(":memory:", debug=True)
    sql = """with numbers as (select range as n from range(10)),
        small as (select n from numbers where n < $below),
        final as (select count(*) as n_small from small)
        select * from final"""
    assert materialise(con, "counted", sql, {"below": 4, "unused": 1}) == 1
    tables = dict(con.execute("""select table_name, estimated_size from duckdb_tables()
        where schema_name = 'debug' order by table_name""").fetchall())
    assert set(tables) == {"counted__numbers", "counted__small", "counted__final"}
    assert con.execute("select count(*) from debug.counted__small").fetchone() == (4,)
    assert con.execute("select * from debug.counted__final").fetchone() == (4,)


def test_without_debug_nothing_is_kept():
    con = connect(":memory:")
    materialise(con, "counted", "with a as (select 1 as x) select * from a")
    assert con.execute("select count(*) from duckdb_schemas() where schema_name = 'debug'"
                       ).fetchone() == (0,)


# sql/outputs/ holds the queries of the files a run writes, not tables of a step
@pytest.mark.parametrize("path", sorted(p.relative_to(SQL_DIR).as_posix()
                                        for p in SQL_DIR.rglob("*.sql")
                                        if p.name not in NOT_STEPS
                                        and p.parent.name != "outputs"))
def test_every_step_can_be_kept_step_by_step(path):
    """DuckDB parses every step file into its CTEs and rebuilds each CTE's query, so
    debug mode misses none."""
    con = duckdb.connect()
    sql = db.step_sql(path.removesuffix(".sql"))
    ctes = db.ctes(con, sql)
    assert ctes, "a step file is CTEs, as dbt models are"
    for name, query in ctes:
        (parsed,) = con.execute("select json_serialize_sql($sql)", {"sql": query}).fetchone()
        assert json.loads(parsed)["error"] is False, (name, query[:200])
        assert query.rstrip().endswith((f"SELECT * FROM {name}", f'SELECT * FROM "{name}"'))


def test_a_debug_run_keeps_its_intermediate_tables_and_a_later_one_replaces_them(tmp_path):
    extracts = tmp_path / "extracts"
    borough.generate(extracts, households=60, seed=3)
    run, rules = runs.prepare(extracts, AS_OF.isoformat(), tmp_path / "out", None, None,
                              debug=True)
    steps.execute(run, rules)
    with duckdb.connect(str(run.db), read_only=True) as con:
        kept = {t for (t,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'debug'").fetchall()}
        assert {"link_edges__name_pairs", "link_edges__final", "cohort__final"} <= kept
        assert con.execute("select count(*) from debug.link_edges__final").fetchone() \
            == con.execute("select count(*) from work.link_edges").fetchone()
    with duckdb.connect(str(run.db)) as con:
        con.execute("create table debug.stale as select 1 as x")
    run, rules = runs.prepare(extracts, AS_OF.isoformat(), tmp_path / "out", None, None)
    steps.execute(run, rules)
    with duckdb.connect(str(run.db), read_only=True) as con:
        assert "stale" in {t for (t,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'debug'").fetchall()}
    run, rules = runs.prepare(extracts, AS_OF.isoformat(), tmp_path / "out", None, None,
                              debug=True)
    with duckdb.connect(str(run.working), read_only=True) as con:
        assert con.execute("select count(*) from duckdb_tables() where schema_name = 'debug'"
                           ).fetchone() == (0,)
