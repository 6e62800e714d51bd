"""Linkage and households: one person from many records, one family per address."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from tests.build import AS_OF, Extracts, make_upn, person, screen

D = dt.date


def pupil(ex: Extracts, n: int, p: dict, year="2024/25", term="summer", **extra) -> None:
    ex.add("school_attendance", **p, upn=make_upn(n), school_urn="123456",
           academic_year=year, term=term, sessions_possible=100,
           sessions_authorised_absence=0, sessions_unauthorised_absence=0, provision="",
           **extra)


def claimant(ex: Extracts, nino: str, p: dict, end=None) -> None:
    ex.add("benefits", **p, nino=nino, benefit="hb", claim_start="2020-01-01",
           claim_end=end or "")


def offender(ex: Extracts, ref: str, p: dict, when=D(2025, 1, 10)) -> None:
    ex.add("police_offences", **p, police_ref=ref, offence_date=when, disposal_date=when,
           disposal="nfa")


def run(ex: Extracts, tmp_path, **kw) -> duckdb.DuckDBPyConnection:
    result, _ = screen(ex.write(), tmp_path / "out", **kw)
    return duckdb.connect(str(result.db), read_only=True)


def persons_of(con, surname: str) -> list[tuple]:
    return con.execute("""
        select p.person_id, p.forename, p.household_key, count(*) as n_records
        from work.persons as p join work.person_records as r using (person_id)
        where p.surname = $s group by all order by 1""", {"s": surname}).fetchall()


def household_keys(con) -> tuple[dict[str, str], dict[str, str]]:
    """Each person's household key and person id, by forename (unique in these tests)."""
    rows = con.execute("select forename, household_key, person_id from work.persons").fetchall()
    return {f: key for f, key, _ in rows}, {f: pid for f, _, pid in rows}


def test_nickname_case_and_punctuation_still_link_on_name_and_dob(extracts, tmp_path):
    claimant(extracts, "AB000001C", person("William", "O'Brien", "1980-04-05",
                                          "1 Oak Close", "CH41 1AA"))
    offender(extracts, "01/000001A", person("BILL", "OBRIEN", "05/04/1980",
                                            "1 Oak Cl", "ch411aa"))
    con = run(extracts, tmp_path)
    people = con.execute("select person_id from work.persons").fetchall()
    assert len(people) == 1
    methods = dict(con.execute("select extract, match_method from work.person_records"
                               ).fetchall())
    assert methods == {"benefits": "name_dob", "police_offences": "name_dob"}


def test_different_dates_of_birth_do_not_link(extracts, tmp_path):
    claimant(extracts, "AB000001C", person("Ann", "Lee", "1980-04-05", "1 Oak Close",
                                          "CH41 1AA"))
    offender(extracts, "01/000001A", person("Ann", "Lee", "1980-05-04", "1 Oak Close",
                                            "CH41 1AA"))
    con = run(extracts, tmp_path)
    assert con.execute("select count(*) from work.persons").fetchone()[0] == 2


def test_records_with_different_identifiers_of_one_system_are_never_one_person(
        extracts, tmp_path):
    """Two pupils, same name and birthday, different UPNs and homes: a police record at
    one of the homes links to that pupil only (address breaks the tie)."""
    pupil(extracts, 1, person("Sam", "Hall", "2011-01-01", "1 Oak Close", "CH41 1AA"))
    pupil(extracts, 2, person("Sam", "Hall", "2011-01-01", "9 Elm Grove", "CH42 2BB"))
    offender(extracts, "01/000001A", person("Sam", "Hall", "2011-01-01", "9 Elm Grove",
                                            "CH42 2BB"))
    con = run(extracts, tmp_path)
    rows = con.execute("""
        select p.upn, list(r.extract order by r.extract) from work.persons as p
        join work.person_records as r using (person_id) group by all order by 1""").fetchall()
    assert rows == [(make_upn(1), ["school_attendance"]),
                    (make_upn(2), ["police_offences", "school_attendance"])]


def test_same_identifier_links_whatever_the_names(extracts, tmp_path):
    pupil(extracts, 1, person("Jo", "Hall", "2011-01-01", "1 Oak Close", "CH41 1AA"))
    extracts.add("school_exclusions", upn=make_upn(1), category="suspension",
                 start_date="2025-01-01")
    pupil(extracts, 1, person("Joanne", "Hall-Smith", "2011-01-01", "1 Oak Close",
                              "CH41 1AA"), term="spring")
    con = run(extracts, tmp_path)
    assert con.execute("select count(distinct person_id) from work.person_records"
                       ).fetchone()[0] == 1
    assert {m for (m,) in con.execute("select match_method from work.person_records")
            .fetchall()} == {"source_key"}


def test_current_address_is_the_newest_records(extracts, tmp_path):
    """A mover: the older police record has the old address, the benefit claim the new."""
    offender(extracts, "01/000001A", person("Ann", "Lee", "1980-04-05", "3 Old Road",
                                            "CH43 3CC"), when=D(2024, 11, 1))
    claimant(extracts, "AB000001C", person("Ann", "Lee", "1980-04-05", "1 Oak Close",
                                          "CH41 1AA"))
    con = run(extracts, tmp_path)
    (address,) = con.execute("select address from work.persons").fetchone()
    assert address == "1 Oak Close"


def test_a_newest_record_without_postcode_stays_at_the_persons_postcoded_home(
        extracts, tmp_path):
    """Two "14 Church Road"s in the borough, so the unpostcoded record alone is ambiguous;
    the pupil's own earlier record of the same flat, number and street settles it."""
    claimant(extracts, "AB000001C", person("Ann", "Lee", "1980-04-05", "14 Church Road",
                                          "CH41 1AA"))
    claimant(extracts, "AB000002C", person("Bob", "Ray", "1979-01-02", "14 Church Road",
                                          "CH62 9ZZ"))
    pupil(extracts, 1, person("Kim", "Lee", "2012-03-04", "14 Church Road", "CH41 1AA"),
          term="spring")
    pupil(extracts, 1, person("Kim", "Lee", "2012-03-04", "14 Church Rd", ""))
    con = run(extracts, tmp_path)
    rows = con.execute("""
        select p.forename, p.postcode, p.household_key from work.persons as p
        order by 1""").fetchall()
    assert [r[:2] for r in rows] == [("Ann", "CH41 1AA"), ("Bob", "CH62 9ZZ"),
                                     ("Kim", "CH41 1AA")]
    assert rows[0][2] == rows[2][2] != rows[1][2]
    assert con.execute("select count(*) from work.families").fetchone()[0] == 2


def test_an_address_that_could_be_several_places_pools_no_strangers(extracts, tmp_path):
    """Three "29 Victoria Street"s with postcodes (the Lees', and two of Rays), and people
    who write it without one. Fay Lee joins the one Lee home; Cy and Di, strangers, and
    Hal Ray, who could be at either Ray home, are each a household of their own; Ed's
    earlier postcoded record elsewhere gives his household."""
    claimant(extracts, "AB000001C", person("Ann", "Lee", "1980-04-05", "29 Victoria Street",
                                          "CH41 1AA"))
    claimant(extracts, "AB000002C", person("Bob", "Ray", "1979-01-02", "29 Victoria Street",
                                          "CH62 9ZZ"))
    claimant(extracts, "AB000007C", person("Gil", "Ray", "1975-03-04", "29 Victoria Street",
                                          "CH43 5XX"))
    claimant(extracts, "AB000006C", person("Fay", "Lee", "1981-02-03", "29 Victoria St", ""))
    claimant(extracts, "AB000008C", person("Hal", "Ray", "1977-09-10", "29 Victoria St", ""))
    claimant(extracts, "AB000003C", person("Cy", "Fox", "1990-01-02", "29 Victoria St", ""))
    offender(extracts, "01/000004D", person("Di", "Orr", "2008-05-06", "29 Victoria Street",
                                            ""))
    offender(extracts, "01/000005E", person("Ed", "Ash", "1985-07-08", "3 Oak Close",
                                            "CH43 3CC"), when=D(2024, 11, 1))
    claimant(extracts, "AB000005E", person("Ed", "Ash", "1985-07-08", "29 Victoria Street",
                                          ""))
    con = run(extracts, tmp_path)
    keys, ids = household_keys(con)
    assert keys["Fay"] == keys["Ann"] == "A:CH41 1AA|29|VICTORIA"
    assert {keys[p] for p in ("Cy", "Di", "Hal")} == {"P:" + ids[p] for p in ("Cy", "Di", "Hal")}
    assert len({keys[p] for p in ("Ann", "Bob", "Gil", "Cy", "Di", "Ed", "Hal")}) == 7
    (ed,) = con.execute("select address from work.persons where forename = 'Ed'").fetchone()
    assert ed == "3 Oak Close"
    assert con.execute("select count(*) from work.families").fetchone()[0] == 7


def test_an_unpostcoded_address_naming_its_town_is_that_towns(extracts, tmp_path):
    """A "14 Church Road" in Wallasey and one in Bebington. Written without a postcode
    but with the town (or a district and the town, or the town and the county), it is
    the one in that town; without the town it could be either, and the person is a
    household of their own."""
    claimant(extracts, "AB000001C", person("Ann", "Lee", "1980-04-05",
                                          "14 Church Road, Wallasey", "CH44 1AA"))
    claimant(extracts, "AB000002C", person("Bob", "Ray", "1979-01-02",
                                          "14 Church Road, Bebington", "CH63 9ZZ"))
    claimant(extracts, "AB000003C", person("Cy", "Fox", "1990-01-02",
                                          "14 Church Rd, Wallasey", ""))
    claimant(extracts, "AB000004C", person("Di", "Orr", "1991-02-03",
                                          "14 CHURCH ROAD, HIGHER BEBINGTON", ""))
    claimant(extracts, "AB000007C", person("Gus", "Kay", "1992-03-04",
                                          "14 Church Road, Wallasey, Wirral", ""))
    claimant(extracts, "AB000005C", person("Ed", "Ash", "1985-07-08", "14 Church Road", ""))
    claimant(extracts, "AB000006C", person("Fay", "Lee", "1981-02-03", "14 Church Road", ""))
    con = run(extracts, tmp_path)
    keys, ids = household_keys(con)
    assert keys["Cy"] == keys["Gus"] == keys["Ann"] == "A:CH44 1AA|14|CHURCH"
    assert keys["Di"] == keys["Bob"] == "A:CH63 9ZZ|14|CHURCH"
    assert keys["Ed"] == "P:" + ids["Ed"]
    assert keys["Fay"] == keys["Ann"]  # no town, but the one Lee home of the two


def test_a_postcoded_address_naming_no_town_is_in_the_town_its_key_is_written_with(
        extracts, tmp_path):
    """"3 Fairby St, BB37 1SH" names no town, but the same address is written elsewhere
    with Blackburn: an unpostcoded "3 Fairby Street, Bolton" is the one in Bolton, not
    either of two."""
    claimant(extracts, "AB000001C", person("Ann", "Ali", "1980-04-05",
                                          "3 Fairby Street, Blackburn", "BB37 1SH"))
    claimant(extracts, "AB000002C", person("Bob", "Ali", "1979-01-02", "3 Fairby St",
                                          "BB37 1SH"))
    claimant(extracts, "AB000003C", person("Cy", "Orr", "1990-01-02",
                                          "3 Fairby Street, Bolton", "BL1 1AA"))
    claimant(extracts, "AB000004C", person("Di", "Ray", "1991-02-03",
                                          "3 FAIRBY ST, BOLTON", ""))
    con = run(extracts, tmp_path)
    keys, _ = household_keys(con)
    assert keys["Di"] == keys["Cy"] == "A:BL1 1AA|3|FAIRBY"
    assert keys["Ann"] == keys["Bob"] == "A:BB37 1SH|3|FAIRBY"


@pytest.mark.parametrize(("surname", "joins"), [
    ("Jamey", "Bob"),   # spelt the same decides, though James is a typo away
    ("Moors", "Gil"),   # Jaro-Winkler 0.92 from Moore: a typo away from one home
    ("Moare", None),    # 0.893: not a typo away
    ("Jamez", None),    # 0.92 from both James and Jamey: either
])
def test_an_address_that_could_be_several_places_is_the_one_of_the_same_surname(
        extracts, tmp_path, surname, joins):
    """Three "29 Victoria Street"s with postcodes; Zed writes it without one. He joins the
    home of his surname, or failing one the home of a surname a typo away, if there is
    exactly one; otherwise he is a household of his own."""
    claimant(extracts, "AB000001C", person("Ann", "James", "1980-04-05",
                                          "29 Victoria Street", "CH41 1AA"))
    claimant(extracts, "AB000002C", person("Bob", "Jamey", "1979-01-02",
                                          "29 Victoria Street", "CH62 9ZZ"))
    claimant(extracts, "AB000003C", person("Gil", "Moore", "1975-03-04",
                                          "29 Victoria Street", "CH43 5XX"))
    claimant(extracts, "AB000004C", person("Zed", surname, "1990-06-07", "29 Victoria St",
                                          ""))
    con = run(extracts, tmp_path)
    keys, ids = household_keys(con)
    assert keys["Zed"] == (keys[joins] if joins else "P:" + ids["Zed"])


def test_a_surname_home_in_another_town_is_not_the_place(extracts, tmp_path):
    """Fay Lee writes "29 Victoria St, Bolton", which could be either of two Bolton homes.
    The one Lee home on a Victoria Street is in Blackburn, though Dan Lee's record of it
    names no town: Fay is a household of her own, not a Blackburn Lee."""
    claimant(extracts, "AB000001C", person("Ann", "Fox", "1980-04-05",
                                          "29 Victoria Street, Bolton", "BL1 1AA"))
    claimant(extracts, "AB000002C", person("Bob", "Ray", "1979-01-02",
                                          "29 Victoria Street, Bolton", "BL2 2BB"))
    claimant(extracts, "AB000003C", person("Cal", "Lee", "1975-03-04",
                                          "29 Victoria Street, Blackburn", "BB1 1AA"))
    claimant(extracts, "AB000004C", person("Dan", "Lee", "1977-09-10",
                                          "29 Victoria Street", "BB1 1AA"))
    claimant(extracts, "AB000006C", person("Fay", "Lee", "1981-02-03",
                                          "29 Victoria St, Bolton", ""))
    con = run(extracts, tmp_path)
    keys, ids = household_keys(con)
    assert keys["Cal"] == keys["Dan"] == "A:BB1 1AA|29|VICTORIA"
    assert keys["Fay"] == "P:" + ids["Fay"]


@pytest.mark.parametrize(("a", "b", "same"), [
    (("Flat 2, 14 Church Rd", "CH41 1AA"), ("2/14 CHURCH ROAD", "CH41 1AA"), True),
    (("Flat 2, 14 Church Road, Birkenhead", "CH41 1AA"), ("flat 2 14 church rd", "ch41 1aa"),
     True),
    (("Flat 1, 14 Church Road", "CH41 1AA"), ("Flat 2, 14 Church Road", "CH41 1AA"), False),
    (("14 Church Road", "CH41 1AA"), ("Flat 2, 14 Church Road", "CH41 1AA"), False),
    (("14 Church Road", "CH41 1AA"), ("16 Church Road", "CH41 1AA"), False),
    (("14 Church Road", "CH41 1AA"), ("14 Church Road", ""), True),
    (("3 Park Avenue", "CH41 1AA"), ("3 Park Ave, Birkenhead", "CH41 1AA"), True),
])
def test_addresses_written_differently_are_one_household_but_flats_never_join(
        extracts, tmp_path, a, b, same):
    claimant(extracts, "AB000001C", person("Ann", "Lee", "1980-04-05", *a))
    claimant(extracts, "AB000002C", person("Bob", "Lee", "1979-01-02", *b))
    con = run(extracts, tmp_path)
    n = con.execute("select count(*) from work.families").fetchone()[0]
    assert (n == 1) is same


def test_gazetteer_gives_uprn_ward_and_deprivation(extracts, tmp_path):
    extracts.add("gazetteer", uprn="100200300", address="Flat 2, 14 Church Road, Birkenhead",
                 postcode="CH41 1AA", ward="Oxton", lsoa="E01000123", imd_decile="2")
    claimant(extracts, "AB000001C", person("Ann", "Lee", "1980-04-05", "2/14 Church Rd",
                                          "CH41 1AA"))
    con = run(extracts, tmp_path)
    row = con.execute("select uprn, address, ward, imd_decile from work.families").fetchone()
    assert row == ("100200300", "Flat 2, 14 Church Road, Birkenhead", "Oxton", 2)


def test_children_and_adults_by_age_on_the_as_of_date(extracts, tmp_path):
    home = ("1 Oak Close", "CH41 1AA")
    claimant(extracts, "AB000001C", person("Ann", "Lee", "1980-04-05", *home))
    pupil(extracts, 1, person("Kim", "Lee", "2007-09-30", *home))   # 18 on the as-of date
    pupil(extracts, 2, person("Max", "Lee", "2007-10-01", *home))   # 17
    pupil(extracts, 3, person("Ola", "Lee", "", *home))             # no date of birth
    con = run(extracts, tmp_path)
    roles = dict(con.execute("select p.forename, m.role from work.family_members as m "
                             "join work.persons as p using (person_id)").fetchall())
    assert roles == {"Ann": "adult", "Kim": "adult", "Max": "child", "Ola": "child"}
    assert con.execute("select members, children, adults from work.families").fetchone() \
        == (4, 2, 2)


def test_ids_are_kept_across_runs_when_membership_is_substantially_the_same(extracts,
                                                                            tmp_path):
    homes = {"a": ("1 Oak Close", "CH41 1AA"), "b": ("2 Oak Close", "CH41 1AA"),
             "c": ("3 Oak Close", "CH41 1AA")}
    claimant(extracts, "AB000001C", person("Ann", "Lee", "1980-04-05", *homes["a"]))
    pupil(extracts, 1, person("Max", "Lee", "2012-10-01", *homes["a"]))
    pupil(extracts, 2, person("Ola", "Lee", "2014-10-01", *homes["a"]))
    claimant(extracts, "AB000002C", person("Bob", "Fry", "1970-01-02", *homes["b"]))
    claimant(extracts, "AB000004C", person("Dee", "Gee", "1960-01-02", *homes["c"]))
    db = tmp_path / "screen.duckdb"
    con = run(extracts, tmp_path, db=db)
    first = dict(con.execute("select p.forename, m.family_id from work.family_members as m "
                             "join work.persons as p using (person_id)").fetchall())
    people = dict(con.execute("select forename, person_id from work.persons").fetchall())
    con.close()

    # next month: a child appears at home a; Bob's partner joins him; two join Dee
    pupil(extracts, 3, person("Pip", "Lee", "2020-10-01", *homes["a"]))
    claimant(extracts, "AB000003C", person("Cat", "Fry", "1972-01-02", *homes["b"]))
    claimant(extracts, "AB000005C", person("Eve", "Gee", "1990-01-02", *homes["c"]))
    claimant(extracts, "AB000006C", person("Fay", "Gee", "1992-01-02", *homes["c"]))
    con = run(extracts, tmp_path, db=db, as_of=AS_OF + dt.timedelta(days=31))
    second = dict(con.execute("select p.forename, m.family_id from work.family_members as m "
                              "join work.persons as p using (person_id)").fetchall())
    again = dict(con.execute("select forename, person_id from work.persons").fetchall())
    assert {k: again[k] for k in people} == people
    assert second["Ann"] == second["Pip"] == first["Ann"]   # 3 of 4 shared: kept
    assert second["Bob"] == second["Cat"] == first["Bob"]   # 1 of 2: at the 0.5 bar, kept
    assert second["Dee"] == second["Eve"] != first["Dee"]   # 1 of 3: below it, a new id
    assert first["Dee"] not in second.values()


def test_numbers_past_an_ids_digits_widen_it_instead_of_repeating_one():
    """Family ids have six digits and person ids seven: the millionth family is F1000000,
    not a second F100000 (a region passes a million families)."""
    from pipelines.cohort import ensure_schema
    from pipelines.db import connect, run_steps
    from pipelines.households import STEPS
    from pipelines.link import ID_STEPS

    with connect(":memory:") as con:
        ensure_schema(con)
        con.execute("""
            create table work.persons as select * from (values
                ('A:1', 'P1'), ('A:2', 'P2'), ('A:3', 'P3')) as t(household_key, person_id);
            create table work.link_clusters as select * from (values
                ('r1', 'r1'), ('r2', 'r2'), ('r3', 'r3')) as t(record_id, cluster_id);
            create table work.std_person_keys as select * from (values
                ('r1', 'upn', 'U1'), ('r2', 'upn', 'U2'), ('r3', 'upn', 'U3'))
                as t(record_id, key_type, key_value);
            create table work.std_person_records as select record_id, 'asb' as extract,
                    1 as source_row, null::varchar as forename, null::varchar as surname,
                    null::varchar as gender, null::varchar as address,
                    null::varchar as postcode, null::varchar as uprn,
                    null::date as record_date, null::varchar as name_key,
                    'X' as surname_std, 'Y' as forename_std,
                    null::date as date_of_birth
                from work.link_clusters""")
        params = {"previous_run_id": None, "min_family_overlap": 0.5, "as_of": "2025-09-30",
                  "next_family_number": 999_999, "next_person_number": 9_999_999}
        run_steps(con, ID_STEPS, params)
        run_steps(con, STEPS[STEPS.index("households/family_overlaps"):-2], params)
        families = sorted(f for (f,) in con.execute(
            "select family_id from work.family_ids").fetchall())
        persons = sorted(p for (p,) in con.execute(
            "select person_id from work.person_ids").fetchall())
    assert families == ["F1000000", "F1000001", "F999999"]
    assert persons == ["P10000000", "P10000001", "P9999999"]
