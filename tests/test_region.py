"""A region's authorities and the one-line errors of ``familyscreen screen-region``
(the runs themselves go through a real server: tests/test_prefect_server.py)."""

from __future__ import annotations

import pytest

from pipelines import cli, region
from pipelines.db import RunError


def test_authorities_are_the_folders_holding_extracts_in_name_order(tmp_path):
    for name in ("wirral", "halton", "notes"):
        (tmp_path / name).mkdir()
    (tmp_path / "wirral" / "extracts").mkdir()
    (tmp_path / "halton" / "extracts").mkdir()
    assert [p.name for p in region.authorities(tmp_path)] == ["halton", "wirral"]


def test_each_authority_reads_and_writes_its_own_folders_at_the_regions_date(tmp_path):
    (tmp_path / "halton" / "extracts").mkdir(parents=True)
    params = region.parameters(tmp_path / "halton", "2025-09-30", None)
    assert params == {"extracts": str((tmp_path / "halton" / "extracts").resolve()),
                      "out": str((tmp_path / "halton" / "out").resolve()),
                      "as_of": "2025-09-30"}
    assert region.parameters(tmp_path / "halton", "2025-09-30", "local.yaml")[
        "criteria_file"].endswith("/local.yaml")


@pytest.mark.parametrize("layout, message", [
    (None, "region folder not found"),
    ([], "no authority folders (each <authority>/extracts/)"),
    (["$halton"], "an authority's folder name is letters, digits"),
])
def test_a_region_that_cannot_be_screened_is_one_line(tmp_path, monkeypatch, capsys, layout,
                                                      message):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    folder = tmp_path / "region"
    if layout is not None:
        for name in layout:
            (folder / name / "extracts").mkdir(parents=True)
        folder.mkdir(exist_ok=True)
    assert cli.main(["screen-region", "--region", str(folder)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_region_needs_a_prefect_server(tmp_path, monkeypatch, capsys):
    """Without one, Prefect would start a temporary server that no worker polls."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    (tmp_path / "halton" / "extracts").mkdir(parents=True)
    assert cli.main(["screen-region", "--region", str(tmp_path)]) == 2
    assert "set PREFECT_API_URL" in capsys.readouterr().err
    with pytest.raises(RunError):
        region.require_server()
