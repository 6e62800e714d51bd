"""Address resolution: each address written in a person record → the gazetteer's property.

Table-driven at the layer itself: a gazetteer and a few written addresses in a tiny
database, the two standardising steps run on them, the resolution read back. Each case
is one kind of keying error between agencies.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from pipelines import ROOT, SQL_DIR
from pipelines.db import WORK, run_steps
from pipelines.rule_set import load_rule_set
from pipelines.standardise import load_reference

GAZETTEER = [
    ("100", "Flat 11, 157 Park Road, Birkenhead", "CH41 4LA"),
    ("101", "Flat 12, 157 Park Road, Birkenhead", "CH41 4LA"),
    ("102", "28 Ashbury Close, Birkenhead", "CH47 8XG"),
    ("103", "28 Ashbury Road, Birkenhead", "CH47 8XW"),
    ("104", "14 Church Road, Wallasey", "CH44 1AB"),
    ("105", "14 Church Road, Bebington", "CH63 2CD"),
    ("106", "11 Ashfield Road, Birkenhead", "CH42 2SJ"),
    ("107", "11 Ashford Road, Birkenhead", "CH42 2SP"),
    ("108", "3 Mill Lane, Birkenhead", "CH43 5EF"),
]


def resolve(written: list[tuple[str, str | None]], gazetteer=GAZETTEER) -> dict:
    """(address, postcode) → (uprn, uprn_method, unresolved_reason) for each written."""
    con = duckdb.connect()
    con.execute(f"create schema {WORK}; set search_path = '{WORK},main'")
    con.execute((SQL_DIR / "macros.sql").read_text())
    load_reference(con, load_rule_set(ROOT / "criteria" / "phase1.yaml"))
    con.register("__g", pa.table({
        "source_row": list(range(1, len(gazetteer) + 1)),
        "uprn": [g[0] for g in gazetteer], "address": [g[1] for g in gazetteer],
        "postcode": [g[2] for g in gazetteer]}))
    con.execute("create table stg_gazetteer as select * from __g")
    con.register("__r", pa.table({"address": [w[0] for w in written],
                                  "postcode": pa.array([w[1] for w in written], pa.string())}))
    con.execute("create table std_person_records as select * from __r")
    run_steps(con, ["standardise/std_addresses", "households/address_matches"])
    rows = con.execute("""select address, postcode, uprn, uprn_method, unresolved_reason
        from address_matches""").fetchall()
    return {(a, p): (u, m, why) for a, p, u, m, why in rows}


CASES = [
    # (what, written address, written postcode, uprn, method)
    ("as the gazetteer writes it", "Flat 11, 157 Park Road, Birkenhead", "CH41 4LA", "100",
     "address_key"),
    ("flat as 11/157, road abbreviated", "11/157 Park Rd", "CH41 4LA", "100", "address_key"),
    ("flat after the number", "157 Flat 11 Park Road", "CH41 4LA", "100", "address_key"),
    ("apartment", "Apartment 12, 157 Park Road", "CH41 4LA", "101", "address_key"),
    ("postcode: one letter changed", "Flat 11, 157 Park Road", "CH41 4LX", "100",
     "postcode_slip"),
    ("postcode: two letters transposed", "Flat 11, 157 Park Road", "CH41 4AL", "100",
     "postcode_slip"),
    ("a slip that names the other street's postcode", "28 ASHBURY CLOSE", "CH47 8XW", "102",
     "postcode_slip"),
    ("street misspelt, postcode right", "11 Ashfeild Road", "CH42 2SJ", "106",
     "postcode_slip"),
    ("postcode slipped to the next street's, a name close to another street", "11 Ashfield Rd",
     "CH42 2SP", "106", "postcode_slip"),
    ("no postcode, town named", "14 Church Rd, Wallasey", None, "104", "street_in_locality"),
    ("house name before the number", "Rose Cottage, 3 Mill Lane", "CH43 5EF", "108",
     "address_key"),
    ("old postcode in the same district", "3 Mill Lane", "CH43 9QQ", "108", "other_postcode"),
]


@pytest.mark.parametrize(("what", "address", "postcode", "uprn", "method"), CASES,
                         ids=[c[0] for c in CASES])
def test_an_address_resolves_to_its_property(what, address, postcode, uprn, method):
    assert resolve([(address, postcode)])[(address, postcode)][:2] == (uprn, method)


def test_an_address_that_fits_several_properties_resolves_to_none_and_says_why():
    got = resolve([("14 Church Road", None), ("157 Park Road", "CH41 4LA"),
                   ("99 Nowhere Street", "CH41 4LA")])
    assert got[("14 Church Road", None)] == (None, None, "several properties fit equally")
    assert got[("157 Park Road", "CH41 4LA")][0] is None
    assert got[("99 Nowhere Street", "CH41 4LA")] == (
        None, None, "no gazetteer property of this number, flat and street")


def test_two_slips_in_another_district_resolve_to_nothing():
    """Far from every property of its number and street: no guess."""
    got = resolve([("28 Ashbury Close", "CH99 1ZZ")])
    assert got[("28 Ashbury Close", "CH99 1ZZ")][0] is None


def test_without_a_gazetteer_the_reason_is_said():
    got = resolve([("3 Mill Lane", "CH43 5EF")], gazetteer=[])
    assert got[("3 Mill Lane", "CH43 5EF")] == (None, None, "no gazetteer supplied")


def test_a_slipped_postcode_written_without_a_town_is_still_in_its_propertys_town():
    """"10 Crossley Cl, CH86 1GX" names no town, but resolves to the Birkenhead property:
    it is no second candidate for "10 Crossley Close, Warrington" written without a
    postcode (it had been, and the Warrington address resolved to none)."""
    gazetteer = [("200", "10 Crossley Close, Birkenhead", "CH86 1GB"),
                 ("201", "10 Crossley Close, Warrington", "WA88 1GB")]
    got = resolve([("10 Crossley Cl", "CH86 1GX"), ("10 Crossley Close, Warrington", None)],
                  gazetteer)
    assert got[("10 Crossley Cl", "CH86 1GX")][:2] == ("200", "postcode_slip")
    assert got[("10 Crossley Close, Warrington", None)][:2] == ("201", "street_in_locality")
