"""The house: the product (``pipelines``, ``schemas``, ``sql``) never uses the synthetic
data's generators or a generator's truth; those live in ``synthetic`` for the tests,
``make sample`` and ``make bench``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pipelines import ROOT

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
