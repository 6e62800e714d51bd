"""Person and family ids from run to run, and their lineage: the id steps on tiny runs.

Each run here is the link step's clusters as given (which records are one person) and
the households as given; the id steps and the history they leave are the real ones.
"""

from __future__ import annotations

import duckdb
import pytest

from pipelines.cohort import ensure_schema
from pipelines.db import connect, run_steps
from pipelines.households import MIN_FAMILY_OVERLAP
from pipelines.households import STEPS as HOUSEHOLD_STEPS
from pipelines.link import ID_STEPS, next_number

FAMILY_STEPS = HOUSEHOLD_STEPS[HOUSEHOLD_STEPS.index("households/family_overlaps"):-2]
PUBLISHED = ["person_record_hashes", "person_keys", "person_lineage", "family_lineage",
             "family_members"]


def rec(record_id: str, forename: str, upn: str | None = None, home: str = "H1",
        surname: str = "Lee", dob: str = "1980-01-01") -> tuple:
    return (record_id, forename, surname, dob, upn, home)


@pytest.fixture
def con():
    with connect(":memory:") as c:
        ensure_schema(c)
        c.execute("""create table work.link_edges_final (record_id_l varchar,
                record_id_r varchar, method varchar, score double);
            create table work.link_record_profiles (record_id varchar, cluster_id varchar,
                profile_key varchar);
            create table work.link_profiles (cluster_id varchar, profile_key varchar,
                unique_id varchar)""")
        yield c


def screen_ids(con: duckdb.DuckDBPyConnection, run_id: str, clusters: list[list[tuple]],
               previous: str | None, as_of: str = "2025-09-30") -> dict[str, str]:
    """One run's ids: ``clusters`` are the people (lists of records); each person lives
    at their first record's home. Publishes what the next run reads; returns each
    record's person id and each home's family id (``home:<key>``)."""
    rows = [(r, c[0][0]) for c in clusters for r in c]
    con.execute("create or replace table work.link_clusters (record_id varchar, "
                "cluster_id varchar)")
    con.execute("create or replace table work.std_person_records (record_id varchar, "
                "extract varchar, source_row bigint, forename varchar, surname varchar, "
                "date_of_birth date, gender varchar, address varchar, postcode varchar, "
                "uprn varchar, record_date date, forename_std varchar, surname_std varchar, "
                "name_key varchar)")
    con.execute("create or replace table work.std_person_keys (record_id varchar, "
                "key_type varchar, key_value varchar)")
    for n, (r, cluster) in enumerate(rows, start=1):
        record_id, forename, surname, dob, upn, home = r
        con.execute("insert into work.link_clusters values ($r, $c)",
                    {"r": record_id, "c": cluster})
        con.execute("""insert into work.std_person_records values ($r, 'asb', $n, $f, $s,
                $d::date, null, $home, null, null, null, lower($f), lower($s),
                lower($s) || '|' || lower($f) || '|' || $d)""",
                    {"r": record_id, "n": n, "f": forename, "s": surname, "d": dob,
                     "home": home})
        if upn:
            con.execute("insert into work.std_person_keys values ($r, 'upn', $u)",
                        {"r": record_id, "u": upn})
    params = {"previous_run_id": previous, "as_of": "2025-09-30",
              "min_family_overlap": MIN_FAMILY_OVERLAP,
              "next_person_number": next_number(con, "persons_history", "person_id"),
              "next_family_number": next_number(con, "families_history", "family_id")}
    run_steps(con, [*ID_STEPS, "link/person_records", "link/person_keys"], params)
    con.execute("""create or replace table work.persons as
        select pr.person_id, first(r.address order by r.record_id) as household_key,
            count(*) as n_records
        from work.person_records as pr join work.std_person_records as r using (record_id)
        group by pr.person_id""")
    run_steps(con, FAMILY_STEPS, params)
    con.execute("""create or replace table work.family_members as
        select f.family_id, p.person_id from work.persons as p
        join work.family_ids as f using (household_key)""")
    con.execute("insert into main.runs (run_id, command, status, as_of_date) "
                "values ($r, 'screen', 'succeeded', $as_of::date)",
                {"r": run_id, "as_of": as_of})
    con.execute("""insert into main.persons_history (run_id, person_id, n_records)
        select $r, person_id, n_records from work.persons""", {"r": run_id})
    con.execute("""insert into main.families_history (run_id, family_id, household_key)
        select $r, family_id, household_key from work.family_ids""", {"r": run_id})
    for table in PUBLISHED:
        con.execute(f"insert into main.{table}_history by name "
                    f"select $r as run_id, * from work.{table}", {"r": run_id})
    ids = dict(con.execute("select record_id, person_id from work.person_records").fetchall())
    ids |= dict(con.execute("select 'home:' || household_key, family_id from work.family_ids"
                            ).fetchall())
    return ids


def lineage(con, run_id: str, kind: str = "person") -> dict[str, tuple]:
    return {i: (e, o, reason) for i, e, o, reason in con.execute(
        f"select {kind}_id, event, other_{kind}_id, reason from main.{kind}_lineage_history "
        "where run_id = $r", {"r": run_id}).fetchall()}


ANN = rec("a1", "Ann", "U1")
ANN_AGAIN = rec("a2", "Ann", "U1")
# Ann's twin of the same name and date of birth, whom no identifier gives: the people whose
# identifiers are a subset of another's, which the mutual-best matching of earlier versions
# gave a new id on every re-run (its best previous person preferred Ann's cluster)
TWIN = rec("t1", "Ann")
BOB = rec("b1", "Bob", "U2", home="H2")


def test_identical_inputs_keep_every_person_and_family_id(con):
    people = [[ANN, ANN_AGAIN], [TWIN], [BOB]]
    first = screen_ids(con, "r1", people, None)
    second = screen_ids(con, "r2", people, "r1")
    third = screen_ids(con, "r3", people, "r2")
    assert first == second == third
    assert len(set(first.values())) == 5   # three people, two families
    assert {e for e, _, _ in lineage(con, "r3").values()} == {"carried"}
    assert {r for _, _, r in lineage(con, "r3").values()} == {"the same records"}
    assert {r for _, _, r in lineage(con, "r3", "family").values()} == {"the same members"}
    assert {r for _, _, r in lineage(con, "r1").values()} == {"first run"}


def test_a_run_before_fingerprints_were_kept_follows_people_by_identifiers(con):
    """Upgrading: the previous run has no record fingerprints; ids pass by identifiers and
    name with date of birth, the twin's to the cluster known by just those."""
    people = [[ANN, ANN_AGAIN], [TWIN], [BOB]]
    first = screen_ids(con, "r1", people, None)
    con.execute("delete from main.person_record_hashes_history")
    assert screen_ids(con, "r2", people, "r1") == first


def test_records_that_come_and_go_leave_the_id_with_the_rest(con):
    first = screen_ids(con, "r1", [[ANN, ANN_AGAIN], [BOB]], None)
    second = screen_ids(con, "r2", [[ANN, rec("a3", "Annie", "U1")], [BOB]], "r1")
    assert second["a1"] == second["a3"] == first["a1"]
    assert lineage(con, "r2")[first["a1"]] == (
        "carried", None, "records came or went; the rest link the same")


def test_a_corrected_record_keeps_its_person_by_identifier(con):
    first = screen_ids(con, "r1", [[ANN], [BOB]], None)
    second = screen_ids(con, "r2", [[rec("a1", "Anne", "U1")], [BOB]], "r1")
    assert second["a1"] == first["a1"]
    assert lineage(con, "r2")[first["a1"]][2] == (
        "its records changed; the same identifier or name and date of birth")


def test_a_merge_keeps_the_oldest_id_even_of_the_smaller_part(con):
    older = rec("c1", "Cat", "U0")          # U0 sorts first: the lower number
    first = screen_ids(con, "r1", [[ANN, ANN_AGAIN], [older]], None)
    assert first["c1"] < first["a1"]
    second = screen_ids(con, "r2", [[ANN, ANN_AGAIN, older]], "r1")
    assert second["a1"] == second["c1"] == first["c1"]
    seen = lineage(con, "r2")
    assert seen[first["a1"]] == ("merged", first["c1"],
                                 "its records now link with those of an older id")
    assert seen[first["c1"]][:2] == ("carried", None)


def test_a_split_keeps_the_id_on_the_larger_part_and_the_other_gets_a_new_one(con):
    third = rec("a3", "Ann", "U1")
    first = screen_ids(con, "r1", [[ANN, ANN_AGAIN, third], [BOB]], None)
    second = screen_ids(con, "r2", [[third], [ANN, ANN_AGAIN], [BOB]], "r1")
    assert second["a1"] == second["a2"] == first["a1"]
    assert second["a3"] not in first.values()   # a new number, never one used before
    seen = lineage(con, "r2")
    assert seen[second["a3"]][:2] == ("split", first["a1"])
    assert seen[first["a1"]] == ("carried", None,
                                 "its records split; the larger part kept the id")


def test_an_even_split_leaves_the_id_with_the_same_part_every_time(con):
    halves = [[rec("a1", "Ann", "U1")], [rec("a2", "Ann", "U1")]]
    first = screen_ids(con, "r1", [[*halves[0], *halves[1]]], None)
    once = screen_ids(con, "r2", halves, "r1")
    again = screen_ids(con, "r2b", halves, "r1")   # the same run again, from r1
    kept = [r for r in ("a1", "a2") if once[r] == first["a1"]]
    assert len(kept) == 1 and again[kept[0]] == first["a1"]


def test_an_id_whose_records_are_gone_is_retired_and_never_given_again(con):
    first = screen_ids(con, "r1", [[ANN], [BOB]], None)
    second = screen_ids(con, "r2", [[ANN], [rec("d1", "Dan", "U3", home="H2")]], "r1")
    assert second["d1"] not in first.values()
    assert lineage(con, "r2")[first["b1"]] == (
        "retired", None, "none of its records or identifiers in this run")
    third = screen_ids(con, "r3", [[ANN], [BOB]], "r2")   # Bob's record is back
    assert third["b1"] not in (set(first.values()) | set(second.values())) - {first["b1"]}


def test_families_that_come_together_keep_the_older_id(con):
    first = screen_ids(con, "r1", [[ANN], [BOB]], None)
    bob_home = rec("b1", "Bob", "U2", home="H1")
    second = screen_ids(con, "r2", [[ANN], [bob_home]], "r1")
    assert second["home:H1"] == first["home:H1"]
    assert lineage(con, "r2", "family")[first["home:H2"]] == (
        "merged", first["home:H1"], "its members now live with an older family")


def test_a_family_that_parts_keeps_its_id_with_the_larger_part(con):
    cat = rec("c1", "Cat", "U0")
    first = screen_ids(con, "r1", [[ANN], [cat], [BOB]], None)
    second = screen_ids(con, "r2", [[ANN], [rec("c1", "Cat", "U0", home="H3")], [BOB]],
                        "r1")
    assert second["home:H1"] == first["home:H1"]            # Ann: 1 of 2 members, at 0.5
    family = lineage(con, "r2", "family")
    assert family[second["home:H3"]][:2] == ("split", first["home:H1"])
    assert family[first["home:H1"]][2] == "members moved apart; the larger part kept the id"


def test_a_family_follows_its_members_through_a_person_merge(con):
    """Ann's two ids merge; her family is still the family she and Cat were."""
    cat = rec("c1", "Cat", "U0")
    split = [[ANN], [rec("a2", "Ann", "U1", home="H1")], [cat]]
    first = screen_ids(con, "r1", split, None)
    second = screen_ids(con, "r2", [[ANN, rec("a2", "Ann", "U1", home="H1")], [cat]], "r1")
    assert second["home:H1"] == first["home:H1"]
    assert lineage(con, "r2", "family")[first["home:H1"]][:2] == ("carried", None)


def attach(con, family_id: str, identified_in: str, claimed: list[tuple[str, str]]) -> None:
    """The claims run's attachments (one family, identified in ``identified_in``), its
    claims history and the identities the link step of a claims run leaves."""
    con.execute("""create or replace table work.pbr_attachments as
        select $f as family_id, $r as identification_run_id""",
                {"f": family_id, "r": identified_in})
    con.execute("create or replace table work.stg_claims_history (source_row bigint, "
                "family_id varchar, result varchar, claimed_date date)")
    for n, (fid, result) in enumerate(claimed, start=1):
        con.execute("insert into work.stg_claims_history values ($n, $f, $r, '2026-06-01')",
                    {"n": n, "f": fid, "r": result})
    con.execute("""create or replace table work.person_identities as
        select person_id, 'Ann' as forename, 'Lee' as surname, date '1980-01-01'
            as date_of_birth
        from work.person_ids""")
    run_steps(con, ["claims/pbr_member_ids", "claims/pbr_members", "claims/pbr_claimed"],
              {"as_of": "2026-07-31"})


def test_claims_follow_a_member_whose_id_merged_into_an_older_one(con):
    """Ann was identified as her own person; her records now link with an older id's: her
    events are under that id, and the claim evaluation finds them there."""
    older = rec("c1", "Cat", "U0")
    first = screen_ids(con, "r1", [[ANN, ANN_AGAIN], [older]], None)
    screen_ids(con, "r2", [[ANN, ANN_AGAIN, older]], "r1")
    screen_ids(con, "r3", [[ANN, ANN_AGAIN, older]], "r2")   # the claims run's link step
    attach(con, first["home:H1"], "r1", [])
    members = con.execute("select person_id from work.pbr_members").fetchall()
    assert members == [(first["c1"],)]                       # one person now, by the old id
    assert first["a1"] != first["c1"]


def test_claims_keep_a_member_whose_id_is_kept(con):
    first = screen_ids(con, "r1", [[ANN], [BOB]], None)
    screen_ids(con, "r2", [[ANN], [BOB]], "r1")
    attach(con, first["home:H2"], "r1", [])
    assert con.execute("select person_id from work.pbr_members").fetchall() == [(first["b1"],)]


def test_a_result_claimed_before_a_family_merge_or_split_stays_claimed(con):
    first = screen_ids(con, "r1", [[ANN], [BOB]], None)
    second = screen_ids(con, "r2", [[ANN], [rec("b1", "Bob", "U2", home="H1")]], "r1")
    assert second["home:H1"] == first["home:H1"]            # Bob's family merged into Ann's
    attach(con, first["home:H1"], "r1", [(first["home:H2"], "progress_to_work")])
    assert con.execute("select family_id, result from work.pbr_claimed").fetchall() == [
        (first["home:H1"], "progress_to_work")]
    attach(con, first["home:H1"], "r1", [("F999999", "progress_to_work")])
    assert con.execute("select * from work.pbr_claimed").fetchall() == []   # not related


def new_to_family(con, compare: str | None) -> set[str]:
    run_steps(con, ["cohort/members_new_to_family"], {"compare_run_id": compare})
    return {p for (p,) in con.execute(
        "select person_id from work.members_new_to_family").fetchall()}


def test_members_new_to_their_family_since_the_month_before_even_on_a_rerun(con):
    cat = rec("c1", "Cat", "U0")
    first = screen_ids(con, "sep", [[ANN], [BOB]], None)
    assert new_to_family(con, None) == {first["a1"], first["b1"]}   # no earlier run
    october = [[ANN], [BOB], [cat]]
    second = screen_ids(con, "oct", october, "sep", as_of="2025-10-31")
    assert new_to_family(con, "sep") == {second["c1"]}
    screen_ids(con, "oct-again", october, "oct", as_of="2025-10-31")
    assert new_to_family(con, "sep") == {second["c1"]}   # compared with September again
    assert new_to_family(con, "oct") == set()


def test_a_member_whose_id_merged_is_not_new_to_the_family(con):
    older = rec("c1", "Cat", "U0")
    first = screen_ids(con, "sep", [[ANN, ANN_AGAIN], [older]], None)
    second = screen_ids(con, "oct", [[ANN, ANN_AGAIN, older]], "sep", as_of="2025-10-31")
    assert second["a1"] == first["c1"] != first["a1"]
    assert new_to_family(con, "sep") == set()


def test_a_month_on_the_run_counts_and_files_say_what_became_of_the_ids(tmp_path_factory,
                                                                        tmp_path):
    """Through the real steps: the same borough a month on keeps every id; the manifest,
    report, summary and members file say so."""
    import csv
    import datetime as dt
    import json

    from pipelines import runs
    from tests.build import AS_OF, generated, screen

    borough = generated(tmp_path_factory, "ids", households=120, seed=3, noise=1)
    out = tmp_path / "out"
    first, counts = screen(borough, out)
    assert counts["persons_new"] == counts["persons"] and counts["persons_carried"] == 0
    with (out / "cohort_members.csv").open(encoding="utf-8-sig") as f:
        assert {r["is_new_to_family"] for r in csv.DictReader(f)} == {"true"}
    second, counts = screen(borough, out, as_of=AS_OF + dt.timedelta(days=31))
    assert counts["persons_carried"] == counts["persons"]
    assert counts["families_carried"] == counts["families"]
    assert sum(counts[k] for k in counts if k.startswith(("persons_", "families_"))
               and not k.endswith("carried")) == 0
    with (out / "cohort_members.csv").open(encoding="utf-8-sig") as f:
        members = list(csv.DictReader(f))
    assert members and {r["is_new_to_family"] for r in members} == {"false"}
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert manifest["counts"]["persons_carried"] == counts["persons"]
    assert "Ids against the previous run" in (out / "report.html").read_text()
    assert f"people {counts['persons']} kept, 0 new" in runs.summary_markdown(second)
    with duckdb.connect(str(second.db), read_only=True) as con:
        assert con.execute("select count(*), min(previous_run_id), max(previous_run_id) "
                           "from person_lineage").fetchone() == (
            counts["persons"], first.run_id, first.run_id)
