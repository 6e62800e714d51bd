"""The house: the product (``pipelines``, ``schemas``, ``sql``) never uses the synthetic
data's generators or a generator's truth; those live in ``synthetic`` for the tests,
``make sample`` and ``make bench``."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from pipelines import ROOT, db
from schemas import EXTRACTS
from schemas.extracts import Person

PRODUCT = [*sorted((ROOT / "pipelines").glob("*.py")), *sorted((ROOT / "schemas").glob("*.py"))]
NOT_PRODUCT = ("synthetic", "bench", "tests")


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of its code."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", PRODUCT, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_product_imports_no_generator_and_no_test_code(path):
    assert not {m for m in imported(path) if m.split(".")[0] in NOT_PRODUCT}


# a path or name that starts with truth, as a generator's folder is named
TRUTH = re.compile(r"""["'/]truth\b""")


def test_the_product_reads_no_truth_folder():
    code = [*PRODUCT, *sorted((ROOT / "sql").rglob("*.sql"))]
    assert not [p.name for p in code if TRUTH.search(p.read_text(encoding="utf-8"))]
    assert TRUTH.search('folder / "truth" / "records.csv"')


def test_the_check_sees_an_import_of_a_generator(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from synthetic import borough\n    return borough\n")
    assert imported(module) == {"synthetic"}


def test_the_person_unions_are_the_declared_extracts_and_their_identifiers(monkeypatch):
    """std_person_records and std_person_keys name each extract whose declaration says
    its rows are people's records, and each identifier it declares: an extract added to
    the registry joins them with no SQL written for it."""
    youth_justice = dataclasses.replace(
        EXTRACTS["asb"], name="youth_justice",
        person=Person(record_date="s.start_date", keys=("yjs_ref",)))
    monkeypatch.setitem(EXTRACTS, "youth_justice", youth_justice)
    people = [name for name, spec in EXTRACTS.items() if spec.person is not None]
    assert people == ["school_attendance", "school_exclusions", "police_offences", "asb",
                      "benefits", "local_indicators", "youth_justice"]
    records = db.step_sql("standardise/std_person_records")
    assert [m for m in re.findall(r"from stg_(\w+) as s", records)] == people
    assert "s.start_date as record_date\n    from stg_youth_justice as s" in records
    keys = re.findall(r"'(\w+)' as key_type, \w+ as key_value\n    from stg_(\w+)",
                      db.step_sql("standardise/std_person_keys"))
    assert keys == [(key, name) for name in people for key in EXTRACTS[name].person.keys]
    assert ("yjs_ref", "youth_justice") in keys


def test_a_step_without_a_loop_is_read_as_written():
    path = ROOT / "sql" / "link" / "link_edges.sql"
    assert db.step_sql("link/link_edges") == path.read_text()
