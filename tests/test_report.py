"""The board report: its figures (rates, deciles, the map's cells, the funnel), its page
(banner, charts, no network), the report ``make demo`` leaves after screen and claims,
and the page as a real browser draws it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import random
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from PIL import Image

from pipelines import ROOT, charts, cohort, exports, report, runs, steps
from pipelines.db import connect, run_steps
from pipelines.rule_set import load_rule_set
from synthetic import borough

SAMPLE = ROOT / "data" / "sample"
SAMPLE_CLAIMS = ROOT / "data" / "sample_claims"
PARAMS = {"previous_run_id": None, "min_households": report.MIN_HOUSEHOLDS,
          "cells_across": report.CELLS_ACROSS}


def tables(households: list[dict], gazetteer: list[tuple[str, float, float]] = ()
           ) -> duckdb.DuckDBPyConnection:
    """A run's work tables as the report reads them: one family per household given
    (uprn, ward, imd_decile, criteria_met, in_cohort), the gazetteer's grid points."""
    con = connect(":memory:")
    cohort.ensure_schema(con)
    rows = [{"family_id": f"F{i:06d}", "uprn": None, "ward": None, "imd_decile": None,
             "criteria_met": 0, "in_cohort": False, **h} for i, h in enumerate(households)]
    con.register("__h", pa.Table.from_pylist(rows, schema=pa.schema([
        ("family_id", pa.string()), ("uprn", pa.string()), ("ward", pa.string()),
        ("imd_decile", pa.int32()), ("criteria_met", pa.int32()), ("in_cohort", pa.bool_())])))
    con.execute("create table work.families as select family_id, uprn, ward, imd_decile "
                "from __h")
    con.execute("create table work.family_criteria as select family_id, criteria_met from __h")
    con.execute("create table work.cohort as select family_id, criteria_met, 'new' as status "
                "from __h where in_cohort")
    con.register("__g", pa.Table.from_pylist(
        [{"source_row": i + 1, "uprn": u, "easting": e, "northing": n}
         for i, (u, e, n) in enumerate(gazetteer)],
        schema=pa.schema([("source_row", pa.int64()), ("uprn", pa.string()),
                          ("easting", pa.float64()), ("northing", pa.float64())])))
    con.execute("create table work.stg_gazetteer as select * from __g")
    return con


def table(con: duckdb.DuckDBPyConnection, step: str, **params) -> list[dict]:
    run_steps(con, [f"report/{step}"], {**PARAMS, **params})
    return report.rows(con, f"select * from work.{step}")


# -- figures ---------------------------------------------------------------------------

def test_ward_rates_are_per_100_households_screened_and_the_unmatched_come_last():
    con = tables([{"ward": "Oxton", "in_cohort": True}, *[{"ward": "Oxton"}] * 3,
                  {"ward": "Prenton", "in_cohort": True}, {"ward": None}])
    got = [(r["ward"], r["households"], r["families"], r["rate"])
           for r in table(con, "report_wards")]
    assert got == [("Prenton", 1, 1, 100.0), ("Oxton", 4, 1, 25.0),
                   ("(no ward: gazetteer not matched)", 1, 0, 0.0)]


def test_every_decile_is_shown_with_zero_where_it_has_no_families():
    con = tables([{"imd_decile": 1, "in_cohort": True}, {"imd_decile": 1},
                  {"imd_decile": 3}, {"imd_decile": None, "in_cohort": True}])
    got = {r["imd_decile"]: (r["households"], r["families"], r["rate"])
           for r in table(con, "report_deciles")}
    assert list(got) == list(range(1, 11))
    assert got[1] == (2, 1, 50.0)
    assert got[3] == (1, 0, 0.0)                   # households, none in the cohort
    assert got[2] == got[10] == (0, 0, 0.0)        # no household at all


def test_a_map_cell_shows_its_counts_from_ten_households_and_not_from_nine():
    # two places 5 km apart: ten households at one, nine at the other
    gazetteer = [(f"A{i}", 330000.0 + i, 388000.0) for i in range(10)] + \
                [(f"B{i}", 335000.0 + i, 388000.0) for i in range(9)]
    con = tables([{"uprn": u, "in_cohort": u in ("A0", "B0")} for u, _, _ in gazetteer]
                 + [{"uprn": None}], gazetteer)
    cells = table(con, "report_hotspots")
    assert [(c["is_shown"], c["households"], c["families"]) for c in
            sorted(cells, key=lambda c: c["easting"])] == [(True, 10, 1), (False, None, None)]
    assert {c["width"] for c in cells} == {150}   # 5 km / 40 cells, rounded up to 50 m


def test_the_map_cells_are_at_least_100_m_across():
    gazetteer = [(f"A{i}", 330000.0 + i, 388000.0) for i in range(10)]
    con = tables([{"uprn": u} for u, _, _ in gazetteer], gazetteer)
    assert {c["width"] for c in table(con, "report_hotspots")} == {100}


def test_each_household_is_counted_in_the_hexagon_of_the_nearest_centre():
    rnd = random.Random(3)
    points = [(f"P{i}", 330000 + rnd.uniform(0, 4000), 388000 + rnd.uniform(0, 4000))
              for i in range(2000)]
    con = tables([{"uprn": u} for u, _, _ in points], points)
    cells = table(con, "report_hotspots", min_households=1)
    width = cells[0]["width"]
    rows_apart = width * math.sqrt(3)
    centres = [(i * width + di * width / 2, j * rows_apart + di * rows_apart / 2)
               for i in range(int(330000 / width) - 2, int(334000 / width) + 3)
               for j in range(int(388000 / rows_apart) - 2, int(392000 / rows_apart) + 3)
               for di in (0, 1)]
    expected: dict[tuple[int, int], int] = {}
    for _, x, y in points:
        cx, cy = min(centres, key=lambda c: (c[0] - x) ** 2 + (c[1] - y) ** 2)
        expected[round(cx), round(cy)] = expected.get((round(cx), round(cy)), 0) + 1
    assert {(round(c["easting"]), round(c["northing"])): c["households"]
            for c in cells} == expected


def test_households_without_a_grid_point_are_not_on_the_map():
    con = tables([{"uprn": "1"}, {"uprn": None}], [("1", None, None)])
    assert table(con, "report_hotspots") == []


def test_the_funnel_narrows_to_the_cohort():
    con = tables([{"criteria_met": 0}, {"criteria_met": 1}, {"criteria_met": 2},
                  {"criteria_met": 3, "in_cohort": True}, {"criteria_met": 4, "in_cohort": True},
                  {"criteria_met": 3}])
    got = [(r["label"], r["households"]) for r in table(con, "report_funnel")]
    assert got == [("Households screened", 6), ("Meet at least 1 criterion", 5),
                   ("Meet at least 2 criteria", 4), ("Qualify: the cohort", 2)]


def test_a_rule_set_that_qualifies_on_one_criterion_has_no_stage_between():
    con = tables([{"criteria_met": 0}, {"criteria_met": 1, "in_cohort": True}])
    got = [(r["label"], r["households"]) for r in table(con, "report_funnel")]
    assert got == [("Households screened", 2), ("Qualify: the cohort", 1)]


def test_the_scale_bar_is_a_round_length_about_a_fifth_of_the_map():
    assert charts.scale_length(1200) == 200
    assert charts.scale_length(9000) == 1000
    assert charts.scale_length(10000) == 2000
    assert charts.scale_length(50) == 100


# -- the page --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """``make demo``: the sample screened, then its claims period, into one folder."""
    out = tmp_path_factory.mktemp("demo") / "out"
    for extracts, as_of, command in ((SAMPLE, "2025-09-30", "screen"),
                                     (SAMPLE_CLAIMS, "2026-07-31", "claims")):
        run, rules = runs.prepare(extracts, as_of, out, None, None, command)
        steps.execute(run, rules)
    return out


# `make demo` writes every declared file; the sample's addresses all resolve
DEMO_EMPTY = {"address_review.csv"}


@pytest.mark.parametrize("name", list(exports.OUTPUTS))
def test_every_file_is_as_its_declaration_says(demo, name):
    """sql/outputs/outputs.yaml states each file's columns, in order, and the columns no
    two rows share; the files ``make demo`` writes keep to it."""
    declared = exports.OUTPUTS[name]
    with (demo / name).open(encoding="utf-8-sig", newline="") as f:
        header, *rows = list(csv.reader(f))
    criteria = list(load_rule_set(runs.DEFAULT_CRITERIA).criteria)
    columns = [c for column in declared["columns"]
               for c in (criteria if column == "{criterion}" else [column])]
    if columns[-1] == "{raw field}":  # then the rejected rows' own fields
        assert header[:len(columns) - 1] == columns[:-1] and len(header) >= len(columns)
    else:
        assert header == columns
    assert bool(rows) is (name not in DEMO_EMPTY)
    keys = [header.index(c) for c in declared["unique"]]
    assert len({tuple(row[i] for i in keys) for row in rows}) == len(rows)


def test_every_output_sql_is_declared_and_every_column_described():
    declared = {d["sql"] for d in exports.OUTPUTS.values() if d["sql"]}
    assert declared == {p.stem for p in exports.OUTPUTS_DIR.glob("*.sql")}
    for name, d in exports.OUTPUTS.items():
        assert d["command"] in ("screen", "claims") and d["grain"], name
        assert all(isinstance(text, str) and text for text in d["columns"].values()), name
        assert set(d["unique"]) <= set(d["columns"]), name


def page(demo: Path) -> str:
    return (demo / "report.html").read_text(encoding="utf-8")


def test_after_screen_then_claims_the_report_shows_both(demo):
    html = page(demo)
    manifest = json.loads((demo / "claims_manifest.json").read_text())
    assert f"claims as at 2026-07-31 (run {manifest['run_id']})" in html
    assert "£36,200" in html                      # the claims run's claimable value
    assert "No claims have been evaluated" not in html
    assert ">72</b>families in the cohort" in html
    assert "first screening run in this database: every family in the cohort is new" in html


def test_the_report_is_read_top_down_with_the_appendix_last(demo):
    html = page(demo)
    order = [html.index(f'id="{section}"') for section in
             ("headlines", "funnel", "where", "claims", "appendix")]
    assert order == sorted(order)
    assert html.index("Rejected rows by reason") > html.index('id="appendix"')
    assert html.index("Probabilistic linkage") > html.index('id="appendix"')


def test_nothing_scored_against_truth_reaches_the_report(demo):
    """The sample has a truth folder; the board report never reads it."""
    assert (SAMPLE / "truth" / "records.csv").is_file()
    html = page(demo).lower()
    assert "truth" not in html and "precision" not in html and "recall" not in html


def test_the_report_fetches_nothing(demo):
    html = page(demo)
    assert html.count("<svg") == 6  # funnel, criteria, wards, deciles, map, claims
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r"url\(\s*['\"]?https?:", html)


def test_the_map_holds_no_household_point(demo):
    with connect(demo / "familyscreen.duckdb") as con:
        board = report.latest(con)
    cells = board["figures"]["hotspots"]
    assert cells and all(c["households"] is None or c["households"] >= 10 for c in cells)
    assert all(c["families"] is None for c in cells if not c["is_shown"])
    assert board["figures"]["n_located"] == board["figures"]["households"]["n_families"]


def test_the_warnings_banner_shows_only_when_there_are_warnings(demo, tmp_path):
    with connect(demo / "familyscreen.duckdb") as con:
        board = report.latest(con)
    report.write(tmp_path / "quiet.html", board)
    assert 'id="warnings"' not in (tmp_path / "quiet.html").read_text()
    warned = {**board, "warnings": [{"code": "empty_extract", "file": "asb.csv",
                                     "message": "has no data rows"}],
              "claims_warnings": [{"code": "no_attachments", "file": None,
                                   "message": "no families are attached"}]}
    report.write(tmp_path / "loud.html", warned)
    html = (tmp_path / "loud.html").read_text()
    banner = html[html.index('id="warnings"'):html.index('id="headlines"')]
    assert "Screening: asb.csv: has no data rows" in banner
    assert "Claims: no families are attached" in banner
    assert html.index('id="warnings"') < html.index('id="headlines"')


def test_without_coordinates_the_report_says_how_to_get_a_map(demo, tmp_path):
    with connect(demo / "familyscreen.duckdb") as con:
        board = report.latest(con)
    board["figures"]["hotspots"] = []
    report.write(tmp_path / "report.html", board)
    html = (tmp_path / "report.html").read_text()
    assert "No map: the gazetteer carries no coordinates" in html
    assert html.count("<svg") == 4  # funnel, criteria, wards, deciles (claims came later)


# -- a real browser ---------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH: `apt-get install -y chromium` (Debian) "
                             "to check the report in a real browser")


def headless(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", "--no-first-run", *args],
                          capture_output=True, timeout=120, check=True)


@needs_chromium
def test_a_browser_renders_the_report_with_its_charts(demo):
    url = (demo / "report.html").as_uri()
    dom = headless("--dump-dom", url).stdout.decode()
    assert dom.count("<svg") == 6
    assert dom.count("<path") > 100               # bars, hexagons, axes: drawn, not empty
    assert "Hotspot map" in dom and "Criteria funnel" in dom


@needs_chromium
def test_the_report_screenshot_is_not_blank(demo, tmp_path):
    shot = tmp_path / "report.png"
    headless("--window-size=1280,2400", f"--screenshot={shot}", (demo / "report.html").as_uri())
    image = Image.open(io.BytesIO(shot.read_bytes())).convert("RGB")
    assert image.size == (1280, 2400)
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 50                      # text, bars and shading, not one colour
    blue = sum(n for n, (r, g, b) in colours if b > 150 and r < 120)
    assert blue > 20_000                          # the charts' blue bars are on screen


def test_the_generator_writes_the_sample_as_committed(tmp_path):
    """The sample's coordinates come from the generator, and adding them changed no other
    file of the sample (the cohort files follow from the same extracts)."""
    borough.generate(tmp_path / "s", households=400, seed=7,
                    as_of=dt.date(2025, 9, 30), noise=1.0)
    files = sorted(p.relative_to(SAMPLE) for p in SAMPLE.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "s")
                           for p in (tmp_path / "s").rglob("*") if p.is_file())
    for name in files:
        assert (SAMPLE / name).read_bytes() == (tmp_path / "s" / name).read_bytes(), name


def test_generated_grid_points_are_one_to_a_building_and_on_the_national_grid():
    """Every building of a 2,000,000-household borough (about 43,000 streets of 60) has
    its own point, within the grid's 700 km by 1,300 km."""
    points = {borough.grid_point(street, number)
              for street in range(0, 43_000, 7) for number in range(1, 61)}
    assert len(points) == len(range(0, 43_000, 7)) * 60
    assert all(0 <= e <= 700_000 and 0 <= n <= 1_300_000 for e, n in points)
