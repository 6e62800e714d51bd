"""The analysts' interface: every table, view and column described (COMMENT ON) from
sql/interface.yaml, the same descriptions as docs/outputs.md, no keyword as a column,
and the named members view."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines import CRITERIA_DIR, interface
from pipelines.rule_set import load_rule_set
from synthetic import borough
from tests.build import AS_OF, screen

CRITERIA = list(load_rule_set(CRITERIA_DIR / "phase1.yaml").criteria)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    folder = tmp_path_factory.mktemp("interface")
    borough.generate(folder / "extracts", households=60, seed=3, as_of=AS_OF, noise=1)
    run, _ = screen(folder / "extracts", folder / "out")
    con = duckdb.connect(str(run.db), read_only=True)
    yield con
    con.close()


def catalog(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str | None]]]:
    """Each table and view an analyst sees (schema main, and work's described ones):
    its columns and their comments, in order."""
    described = {n for n in interface.load().all_objects() if n.startswith("work.")}
    out: dict[str, list[tuple[str, str | None]]] = {}
    for schema, table, column, comment in con.execute("""
            select schema_name, table_name, column_name, comment from duckdb_columns()
            where database_name = current_database()
            order by schema_name, table_name, column_index""").fetchall():
        name = table if schema == "main" else f"{schema}.{table}"
        if schema == "main" or name in described:
            out.setdefault(name, []).append((column, comment))
    return out


def expanded(name: str) -> list[str]:
    """An object's described columns, a per-criterion one once per criterion."""
    columns = []
    for column in interface.load().all_objects()[name].columns:
        if interface.PER_CRITERION in column:
            columns += [column.replace(interface.PER_CRITERION, c) for c in CRITERIA]
        else:
            columns.append(column)
    return columns


def test_every_table_view_and_column_has_a_comment(db):
    objects = catalog(db)
    assert len(objects) >= 30
    missing = [f"{t}.{c}" for t, cols in objects.items() for c, comment in cols
               if not (comment or "").strip()]
    assert missing == []
    uncommented = db.execute("""
        select table_name from duckdb_tables()
        where database_name = current_database() and schema_name = 'main'
            and coalesce(comment, '') = ''
        union all
        select view_name from duckdb_views()
        where database_name = current_database() and schema_name = 'main' and not internal
            and coalesce(comment, '') = ''""").fetchall()
    assert uncommented == []


def test_the_description_lists_exactly_the_objects_and_columns_there_are(db):
    """Nothing undocumented, nothing documented that is not there, columns in order."""
    objects = catalog(db)
    assert set(objects) == set(interface.load().all_objects())
    for name, columns in objects.items():
        assert [c for c, _ in columns] == expanded(name), name


def test_a_criterion_column_is_described_with_its_label(db):
    comments = dict(catalog(db)["cohort"])
    assert comments["meets_work"] == "true when a member meets the criterion: Work (work)"


def test_no_interface_column_is_a_duckdb_keyword(db):
    """Every column of every object an analyst queries (the history tables behind the
    views keep their stored names; the views rename)."""
    keywords = {k for (k,) in db.execute("select keyword_name from duckdb_keywords()").fetchall()}
    assert {"work", "row", "column", "value", "role", "rule", "extract"} <= keywords
    objects = interface.load().objects
    clashes = [f"{name}.{column}" for name in objects
               for column in expanded(name) if column in keywords
               and not (column in objects[name].columns
                        and objects[name].columns[column].contract_name)]
    assert clashes == []


def test_the_contracts_keyword_named_column_is_kept_beside_its_twin(db):
    """person_records.extract is named by the outputs contract: queries written to it
    still run, and extract_name says the same."""
    assert [c for name, obj in interface.load().objects.items()
            for c, col in obj.columns.items() if col.contract_name] == ["extract"]
    assert db.execute('select count(*) from person_records where "extract" <> extract_name'
                      ).fetchone() == (0,)


def test_a_criterion_flag_reads_in_plain_sql(db):
    """The issue's query: with a column named ``work`` it was a syntax error."""
    (n,) = db.execute("select count(*) filter (where meets_work) meets_work from cohort"
                      ).fetchone()
    (m,) = db.execute("""select count(*) from family_flags
        where criterion = 'work' and is_met
            and family_id in (select family_id from cohort)""").fetchone()
    assert n == m > 0


def test_docs_outputs_show_the_same_descriptions():
    text = interface.DOCS_FILE.read_text()
    assert interface.with_database_section(text) == text, \
        "docs/outputs.md is out of date: run python -m pipelines.interface"


def test_a_docs_file_without_the_section_is_refused():
    with pytest.raises(ValueError, match="no generated database section"):
        interface.with_database_section("# Outputs\n")


@pytest.mark.parametrize(("column", "described"), [
    ("meets_work", True),
    ("meets_local_filter", True),
    ("meets_", False),               # no criterion
    ("meets_employment", False),     # not a criterion of this rule set
    ("work", False),                 # no prefix
    ("has_work", False),
])
def test_per_criterion_columns_match_only_the_rule_sets_criteria(column, described):
    cohort = interface.load().objects["cohort"]
    labels = {c: c.title() for c in CRITERIA}
    assert (interface.describe(cohort, column, labels) is not None) is described


def test_the_named_members_view_shows_names_beside_the_pseudonymised(db):
    named = db.execute("""select count(*), count(forename), count(*) filter (where is_in_cohort)
        from family_members_named""").fetchone()
    (members,) = db.execute("select count(*) from family_members").fetchone()
    (in_cohort,) = db.execute("""select count(*) from family_members
        where family_id in (select family_id from cohort)""").fetchone()
    assert named[0] == members and named[1] > 0 and named[2] == in_cohort
    pseudo_columns = {c for t, cols in catalog(db).items() if t.endswith("_pseudo")
                      for c, _ in cols}
    assert not pseudo_columns & {"forename", "surname", "date_of_birth", "person_id",
                                 "family_id", "nino", "upn", "address"}


def test_an_unknown_key_in_the_description_is_refused(tmp_path: Path):
    path = tmp_path / "interface.yaml"
    path.write_text("objects:\n  runs:\n    kind: table\n    grain: g\n    colums: {}\n")
    with pytest.raises(ValueError, match="colums"):
        interface.load(path)
