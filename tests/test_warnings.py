"""Warnings: an extract with no data rows or more than the set share of its rows
rejected, a claims run with no attached family; in the manifest, the summary and
``validate``; ``--strict`` fails the run on them, leaving earlier outputs as they were."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml

from pipelines import cli, run_warnings, runs, steps
from pipelines.db import RunError
from pipelines.rule_set import load_rule_set
from synthetic import borough
from tests.build import AS_OF, screen


def inputs(read: int, rejected: int, file: str | None = "benefits.csv") -> list[dict]:
    return [{"extract": "benefits", "file": file, "rows_read": read,
             "rows_rejected": rejected}]


@pytest.mark.parametrize(("read", "rejected", "share", "warns"), [
    (100, 5, 0.05, False),   # exactly 5%: not more than the share
    (100, 6, 0.05, True),
    (20, 1, 0.05, False),    # 5.0%
    (19, 1, 0.05, True),     # 5.3%
    (100, 10, 0.1, False),   # a rule set's own share
    (100, 11, 0.1, True),
    (100, 0, 0.0, False),    # a share of 0: any rejected row warns
    (100, 1, 0.0, True),
])
def test_rejected_share_warns_only_above_the_set_share(read, rejected, share, warns):
    found = run_warnings.input_warnings(inputs(read, rejected), {"benefits": "claim_start: "
                                        "not a date"}, share, "rejects.csv")
    assert [w["code"] for w in found] == (["rejected_share"] if warns else [])
    if warns:
        assert found[0]["file"] == "benefits.csv"
        assert found[0]["message"].startswith(f"benefits.csv: {rejected} of {read} rows "
                                              "rejected (")
        assert "most often claim_start: not a date; fix the export, see rejects.csv" in \
            found[0]["message"]


@pytest.mark.parametrize(("file", "read", "codes"), [
    ("asb.csv", 0, ["no_rows"]),
    ("asb.csv", 1, []),
    (None, 0, []),  # an optional extract not supplied is not a warning
])
def test_a_file_with_no_data_rows_warns(file, read, codes):
    found = run_warnings.input_warnings(inputs(read, 0, file), {}, 0.05, "rejects.csv")
    assert [w["code"] for w in found] == codes


def test_the_share_is_set_in_the_rule_set(tmp_path):
    data = yaml.safe_load((runs.DEFAULT_CRITERIA).read_text())
    assert load_rule_set(runs.DEFAULT_CRITERIA).warnings.max_rejected_share == 0.05
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(
        {**data, "warnings": {"max_rejected_share": 0.2}}))
    assert load_rule_set(tmp_path / "r.yaml").warnings.max_rejected_share == 0.2
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(
        {**data, "warnings": {"max_rejected_share": 1.5}}))
    with pytest.raises(RunError, match=r"warnings\.max_rejected_share"):
        load_rule_set(tmp_path / "bad.yaml")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("warn") / "extracts"
    borough.generate(folder, households=40, seed=3, as_of=AS_OF, noise=0)
    return folder


def with_benefits(generated: Path, tmp_path: Path, rows: int, bad: int) -> Path:
    """The extracts with benefits cut to ``rows`` rows, ``bad`` of them with a claim_start
    no parser reads."""
    folder = tmp_path / "extracts"
    shutil.copytree(generated, folder)
    with (generated / "benefits.csv").open(newline="") as f:
        table = list(csv.reader(f))
    column = table[0].index("claim_start")
    body = table[1:rows + 1]
    assert len(body) == rows
    for row in body[:bad]:
        row[column] = "2024/13/45"
    with (folder / "benefits.csv").open("w", newline="") as f:
        csv.writer(f).writerows([table[0], *body])
    return folder


@pytest.mark.parametrize(("rows", "code"), [(20, 0), (19, 2)])
def test_validate_prints_warnings_and_fails_on_them_under_strict(generated, tmp_path, capsys,
                                                                 rows, code):
    folder = with_benefits(generated, tmp_path, rows, bad=1)
    args = ["validate", "--extracts", str(folder), "--as-of", AS_OF.isoformat()]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    warned = "familyscreen: warning: benefits.csv: 1 of 19 rows rejected (5.3%, more than 5%)"
    assert (warned in out) == bool(code)
    assert cli.main([*args, "--strict"]) == code
    err = capsys.readouterr().err.splitlines()
    if code:
        assert err[-1].startswith("familyscreen: benefits.csv: 1 of 19 rows rejected")
        assert err[-1].endswith("--strict stops the run on a warning, earlier outputs are "
                                "as they were")
    else:
        assert err == []


def test_a_run_above_the_share_warns_in_its_manifest_and_fails_under_strict(generated,
                                                                           tmp_path):
    out = tmp_path / "out"
    run, counts = screen(generated, out)
    before = outputs(out)
    assert json.loads((out / "run_manifest.json").read_text())["warnings"] == []
    assert counts["warnings"] == 0

    folder = with_benefits(generated, tmp_path, 19, bad=1)
    run, rules = runs.prepare(folder, AS_OF.isoformat(), out, None, None)
    with pytest.raises(RunError, match=r"^benefits\.csv: 1 of 19 rows rejected"):
        steps.execute(run, rules, strict=True)
    assert outputs(out) == before

    _run, counts = screen(folder, out)
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert [(w["code"], w["file"]) for w in manifest["warnings"]] == \
        [("rejected_share", "benefits.csv")]
    assert counts["warnings"] == 1


def claims(folder: Path, out: Path, db: Path, strict: bool = False) -> dict[str, int]:
    run, rules = runs.prepare(folder, dt.date(2026, 7, 31).isoformat(), out, db, None,
                              "claims")
    return steps.execute(run, rules, strict=strict)


@pytest.mark.parametrize(("attachments", "message"), [
    (None, "no attachments extract: a claims run evaluates the families attached to the "
           "programme; add attachments.csv to the extracts folder"),
    ("family_id,attached_date,closed_date\n", "attachments.csv has a header but no data rows"),
    ("family_id,attached_date,closed_date\nF999999,2025-10-01,\n",
     "attachments.csv: none of its 1 attached families is in a cohort of a screening run "
     "in this database; give the database of the screening runs (--db)"),
])
def test_a_claims_run_with_no_attached_family_warns(generated, tmp_path, attachments, message):
    run, _ = screen(generated, tmp_path / "screen")
    folder = tmp_path / "claims"
    shutil.copytree(generated, folder)
    if attachments:
        (folder / "attachments.csv").write_text(attachments)
    out = tmp_path / "out"
    with pytest.raises(RunError, match="--strict stops the run"):
        claims(folder, out, run.db, strict=True)
    assert not (out / "claims_manifest.json").exists()

    counts = claims(folder, out, run.db)
    assert counts["claimable"] == 0 and counts["warnings"] >= 1
    manifest = json.loads((out / "claims_manifest.json").read_text())
    assert any(w["message"].startswith(message) for w in manifest["warnings"])
    with (out / "claims_rejects.csv").open(encoding="utf-8-sig") as f:
        header = next(csv.reader(f))  # rejects.csv's layout: a column per raw field
        assert header[:4] == ["extract", "row", "column", "problem"]
        assert "raw_values" not in header


def outputs(folder):
    """The output files of ``folder`` by name, the database and the files kept beside it
    (its lock, a run's working copy) left out."""
    return {p.name: p.read_bytes() for p in folder.iterdir()
            if not p.name.startswith("familyscreen.duckdb")}
