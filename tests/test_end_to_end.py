"""End to end on generated boroughs with known truth, reruns, failures and the CLI."""

from __future__ import annotations

import csv as csvlib
import datetime as dt
import io
import json
import re
import sqlite3
from pathlib import Path

import duckdb
import pytest

from pipelines import cli, cohort, flows, runs, steps
from pipelines.db import connect
from synthetic import borough, quality
from tests.build import AS_OF, generated, screen


def score(db: Path, truth: Path) -> quality.Scores:
    with connect(db) as con:
        return quality.score(con, truth)


@pytest.fixture(scope="module")
def clean_borough(tmp_path_factory) -> Path:
    return generated(tmp_path_factory, "clean", households=250, seed=11, noise=0)


@pytest.fixture(scope="module")
def noisy_borough(tmp_path_factory) -> Path:
    return generated(tmp_path_factory, "noisy", households=300, seed=5, noise=1)


def test_clean_borough_gives_exactly_the_true_cohort_with_the_right_flags(clean_borough,
                                                                         tmp_path):
    run, counts = screen(clean_borough, tmp_path / "out")
    s = score(run.db, clean_borough / "truth")
    assert s.n_true > 20, "the generator should make a real cohort"
    assert (s.precision, s.recall) == (1.0, 1.0)
    assert s.flag_mismatches == []
    assert (s.pair_precision, s.pair_recall) == (1.0, 1.0)
    assert counts["rows_rejected"] == 0


def test_noisy_borough_cohort_against_truth(noisy_borough, tmp_path):
    run, counts = screen(noisy_borough, tmp_path / "out")
    s = score(run.db, noisy_borough / "truth")
    assert s.precision >= 0.97 and s.recall >= 0.97, s
    assert s.pair_precision >= 0.99 and s.pair_recall >= 0.98, s
    assert counts["rows_rejected"] == 6          # the generator's planted bad rows
    manifest = json.loads((tmp_path / "out" / "run_manifest.json").read_text())
    for item in manifest["inputs"]:
        assert item["rows_read"] == item["rows_staged"] + item["rows_rejected"], item
    assert {i["extract"]: i["encoding"] for i in manifest["inputs"]}["local_indicators"] \
        == "cp1252"


def test_same_inputs_give_byte_identical_csvs(noisy_borough, tmp_path):
    """The probabilistic model trains on each run's data: seeded sampling and ordered
    inputs make it give the same links, ids and files every time."""
    for name in ("a", "b"):
        screen(noisy_borough, tmp_path / name)
    for csv in ("cohort_families.csv", "cohort_members.csv", "rejects.csv",
                "review_queue.csv"):
        assert (tmp_path / "a" / csv).read_bytes() == (tmp_path / "b" / csv).read_bytes()


def _members(raw: bytes) -> list[dict[str, str]]:
    return list(csvlib.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_rerun_in_the_same_database_finds_no_family_new(clean_borough, tmp_path):
    """"New" is not in the previous run: a second run of the same inputs keeps every
    file but the status, now continuing, and is_new_to_family, now false; its report
    counts none new."""
    out = tmp_path / "out"
    first, _ = screen(clean_borough, out)
    before = {c: (out / c).read_bytes() for c in ("cohort_families.csv", "cohort_members.csv",
                                                  "rejects.csv")}
    again, counts = screen(clean_borough, out)
    assert again.previous_run_id == first.run_id
    assert counts["new"] == 0 and counts["cohort"] > 0
    after = {c: (out / c).read_bytes() for c in before}
    assert after["cohort_families.csv"] == \
        before["cohort_families.csv"].replace(b",new,", b",continuing,")
    assert after["rejects.csv"] == before["rejects.csv"]
    first_members, members = (_members(b) for b in (before["cohort_members.csv"],
                                                    after["cohort_members.csv"]))
    assert {m.pop("is_new_to_family") for m in first_members} == {"true"}
    assert {m.pop("is_new_to_family") for m in members} == {"false"}
    assert members == first_members
    html = (out / "report.html").read_text()
    assert ">0</b>new: not in the previous run" in html
    assert f">{counts['cohort']}</b>continuing" in html
    assert f"{counts['cohort']} continue and 0 no longer qualify" in html


def test_next_month_keeps_history_ids_and_marks_families_continuing(clean_borough, tmp_path):
    out = tmp_path / "out"
    first, _ = screen(clean_borough, out)
    families = (out / "cohort_families.csv").read_text(encoding="utf-8-sig")
    second, counts = screen(clean_borough, out, as_of=AS_OF + dt.timedelta(days=1))
    assert counts["new"] == 0
    again = (out / "cohort_families.csv").read_text(encoding="utf-8-sig")
    assert again == families.replace(",new,", ",continuing,")
    con = duckdb.connect(str(second.db), read_only=True)
    assert con.execute("select count(*), count(distinct run_id) from runs "
                       "where status = 'succeeded'").fetchone() == (2, 2)
    assert con.execute("select run_id from cohort limit 1").fetchone()[0] == second.run_id
    n_first = con.execute("select count(*) from cohort_history where run_id = $r",
                          {"r": first.run_id}).fetchone()[0]
    assert n_first == con.execute("select count(*) from cohort").fetchone()[0]


def test_a_run_that_fails_part_way_leaves_earlier_outputs_and_views_intact(
        clean_borough, tmp_path, monkeypatch):
    out = tmp_path / "out"
    first, _ = screen(clean_borough, out)
    def outputs() -> dict[str, bytes]:  # the database and the files a run keeps beside it
        return {p.name: p.read_bytes() for p in out.iterdir()
                if not p.name.startswith("familyscreen.duckdb")}
    before = outputs()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(cohort, "publish", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        screen(clean_borough, out, as_of=AS_OF + dt.timedelta(days=30))
    assert outputs() == before
    con = duckdb.connect(str(first.db), read_only=True)
    assert con.execute("select status, failed_step, failure_reason from runs "
                       "order by started_at desc, run_id desc limit 1").fetchone() \
        == ("failed", "outputs", "disk full")
    assert con.execute("select distinct run_id from families").fetchall() == [(first.run_id,)]


def test_flow_function_runs_without_the_engine(clean_borough, tmp_path):
    counts = flows.screen.fn(extracts=str(clean_borough), as_of="2025-09-30",
                             out=str(tmp_path / "out"))
    assert counts["cohort"] > 0


@pytest.mark.parametrize(("args", "message"), [
    (["--as-of", "2025-13-01"], "--as-of '2025-13-01' is not a date in YYYY-MM-DD form"),
    (["--as-of", "30/09/2025"], "--as-of '30/09/2025' is not a date"),
    (["--extracts", "/no/such/folder"], "/no/such/folder: extracts folder not found"),
])
def test_cli_rejects_bad_arguments_with_one_line(tmp_path, capsys, args, message):
    base = {"--extracts": str(tmp_path), "--as-of": "2025-09-30", "--out": str(tmp_path / "o")}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    code = cli.main(["screen", *[x for kv in base.items() for x in kv]])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"familyscreen: {message}") and err.count("\n") == 1


@pytest.mark.engine
def test_cli_through_the_prefect_engine_leaves_no_personal_data_in_prefect(
        clean_borough, tmp_path, capsys, prefect_home):
    """The real engine: exit 0, outputs written; a missing extract exits 2 with one line;
    Prefect's own database holds no name, date of birth or identifier."""
    out = tmp_path / "out"
    assert cli.main(["screen", "--extracts", str(clean_borough), "--as-of", "2025-09-30",
                     "--out", str(out)]) == 0
    assert "families in the cohort" in capsys.readouterr().out
    assert (out / "report.html").exists() and (out / "cohort_members.csv").exists()

    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["screen", "--extracts", str(empty), "--as-of", "2025-09-30",
                     "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("familyscreen: ") and "school_attendance.csv: required " \
        "extract is missing" in err[-1]

    con = duckdb.connect(str(out / "familyscreen.duckdb"), read_only=True)
    secrets = {v for row in con.execute(
        "select forename, surname, cast(date_of_birth as varchar), upn, nino from persons "
        "where forename is not null and upn is not null or nino is not null limit 200"
    ).fetchall() for v in row if v and len(v) > 3}
    prefect_db = next(prefect_home.rglob("*.db"))
    dump = "\n".join(sqlite3.connect(prefect_db).iterdump())
    assert "screen" in dump                                   # the flow run is there
    assert "familyscreen-screen" in dump and "Cohort:" in dump  # its summary artifact
    # whole words: a four-letter surname such as Cook is inside Prefect's "Cookie"
    leaked = sorted(s for s in secrets if re.search(rf"\b{re.escape(s)}\b", dump))
    assert leaked == []


def test_claims_against_the_generated_outcome_period(clean_borough, tmp_path):
    """Screen, attach, generate the outcome period, evaluate: every (family, result) status
    as the generator decided it, and an evidence page for each claimable family."""
    from synthetic import claims
    from tests.build import runs, steps

    db = tmp_path / "familyscreen.duckdb"
    screen(clean_borough, tmp_path / "screen", db=db)
    period = tmp_path / "period"
    claims.generate_claims(clean_borough, db, period, dt.date(2026, 7, 31), seed=3)
    run, rules = runs.prepare(period, "2026-07-31", tmp_path / "claims", db, None, "claims")
    counts = steps.execute(run, rules)
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(f"""
        with t as (select * from read_csv('{period}/truth/claims.csv', all_varchar = true))
        select t.family_id, t.result, t.status as expected, c.status
        from t left join pbr_candidates as c using (family_id, result)""").fetchall()
    statuses = {r[2] for r in rows}
    assert {"claimable", "not_yet", "already_claimed", "not_applicable"} <= statuses
    wrong = [r for r in rows if r[2] != r[3]]
    assert wrong == []
    pages = sorted(p.stem for p in (tmp_path / "claims" / "evidence").iterdir())
    claimable = sorted({r[0] for r in rows if r[3] == "claimable"})
    assert pages == claimable and counts["evidence_pages"] == len(pages)


def test_rerunning_a_past_month_does_not_displace_a_later_one(clean_borough, tmp_path):
    db = tmp_path / "familyscreen.duckdb"
    september, _ = screen(clean_borough, tmp_path / "a", db=db)
    october, _ = screen(clean_borough, tmp_path / "b", db=db,
                        as_of=AS_OF + dt.timedelta(days=31))
    again, _ = screen(clean_borough, tmp_path / "c", db=db)
    assert again.previous_run_id == september.run_id  # never the later October
    assert (tmp_path / "c" / "cohort_families.csv").read_bytes() == \
        (tmp_path / "a" / "cohort_families.csv").read_bytes().replace(b",new,", b",continuing,")
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select run_id from latest_screen_run").fetchone()[0] == october.run_id
    assert con.execute("select distinct run_id from cohort").fetchall() == [(october.run_id,)]


def test_generated_identifiers_never_collide_at_any_size():
    """Serials across a 50-million-household region: every identifier is distinct, so
    generated truth never makes two people one through a shared NINO or reference."""
    serials = [*range(0, 50_000), *range(10**6 - 1_000, 10**6 + 1_000),
               *range(999_000_000 - 100_000, 999_000_000)]
    people = [borough.Person(f"T{n:09d}", "H", "A", "B", AS_OF, "F") for n in serials]
    gen = borough.Generator(1, seed=1, as_of=AS_OF, noise=1)
    for make in (gen.upn, gen.nino, gen.asb_ref, lambda p: gen.police_ref(p, "A")):
        values = [make(p) for p in people]
        assert len(set(values)) == len(values)
    assert all(re.fullmatch(r"[0-9]{2,}/[0-9]{6}A", gen.police_ref(p, "A"))
               for p in people[:100])


def test_a_generated_street_is_one_street_within_its_town():
    """Chunks from both passes over the postcode areas of a 2,000,000-household region:
    an address without its postcode (number, flat, street, town) is one property, while
    street names recur in other towns, as Church Road does."""
    places: dict[tuple, set[str]] = {}
    for chunk in (0, 3, 26, 27, 40, 79):
        gen = borough.Generator(borough.CHUNK, seed=1, as_of=AS_OF, noise=1,
                               first=chunk * borough.CHUNK)
        gen.build_properties()
        for prop in gen.properties:
            places.setdefault((prop.number, prop.flat, prop.street, prop.town),
                              set()).add(prop.postcode)
    assert all(len(postcodes) == 1 for postcodes in places.values())
    towns_of_a_street = {}
    for (_, _, street, town) in places:
        towns_of_a_street.setdefault(street, set()).add(town)
    assert len({town for (*_, town) in places}) >= 6
    assert max(len(towns) for towns in towns_of_a_street.values()) >= 3


@pytest.mark.parametrize("noise", [0, 1])
def test_generated_parquet_holds_the_same_text_as_the_csv(tmp_path, noise):
    """The indicators are Windows-1252 in a noisy borough and UTF-8 in a clean one; the
    Parquet copy reads each in its own encoding, so accented names survive either way."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipelines import extract

    borough.generate(tmp_path, households=200, seed=2, noise=noise, parquet=True)
    indicators = pq.read_table(tmp_path / "parquet" / "local_indicators.parquet")
    assert any(not name.isascii() for name in indicators["forename"].to_pylist() if name)
    for path in tmp_path.glob("*.csv"):
        _, batches, ragged = extract.read_csv(path, extract.sniff(path)[0])
        table = pa.Table.from_batches(list(batches))
        assert not ragged
        assert pq.read_table(tmp_path / "parquet" / f"{path.stem}.parquet").to_pylist() \
            == table.select(pq.read_schema(tmp_path / "parquet" / f"{path.stem}.parquet")
                            .names).to_pylist()


def test_a_run_keeps_its_linkage_model_and_a_stored_model_reproduces_its_links(
        noisy_borough, tmp_path, capsys):
    """Each screening run publishes the model it scored with; ``familyscreen model``
    prints it, and ``screen --model`` scores with it instead of training, giving the same
    links, so an earlier run's decision can be reproduced and explained."""
    first, _ = screen(noisy_borough, tmp_path / "a")
    assert cli.main(["model", "--out", str(tmp_path / "a")]) == 0
    printed = capsys.readouterr().out
    model = json.loads(printed)
    assert len(model["comparisons"]) == 4
    assert all(level.get("m_probability") is not None
               for c in model["comparisons"] for level in c["comparison_levels"]
               if not level.get("is_null_level"))
    assert not re.search(r"\d{4}-\d{2}-\d{2}", printed), "no dates of birth in a model"
    stored = tmp_path / "model.json"
    stored.write_text(printed, encoding="utf-8")

    run, rules = runs.prepare(noisy_borough, AS_OF.isoformat(), tmp_path / "b", None, None,
                              model=stored)
    steps.execute(run, rules)
    with connect(run.db) as con:
        (trained_from, kept) = con.execute(
            "select trained_from, model_json from link_model").fetchone()
    assert trained_from == "stored model" and json.loads(kept) == model
    for csv in ("cohort_members.csv", "review_queue.csv"):
        assert (tmp_path / "a" / csv).read_bytes() == (tmp_path / "b" / csv).read_bytes()
    assert first.run_id != run.run_id


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read the model file"),
    ("{not json", "not a linkage model (not JSON"),
    ('{"link_type": "dedupe_only"}', "not a linkage model (no comparisons)"),
])
def test_a_bad_model_file_stops_the_run_with_one_line(tmp_path, capsys, content, message):
    model = tmp_path / "model.json"
    if content is not None:
        model.write_text(content, encoding="utf-8")
    code = cli.main(["screen", "--extracts", str(tmp_path), "--as-of", "2025-09-30",
                     "--out", str(tmp_path / "o"), "--model", str(model)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"familyscreen: {model}: {message}")
