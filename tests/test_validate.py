"""Validate step: every row staged or rejected with a reason; bad person values nulled."""

from __future__ import annotations

import json
import random

import pandas as pd
import pandera.polars as pap
import polars as pl
import pytest
from stdnum.gb import upn as stdnum_upn

from pipelines import extract, validate
from pipelines.db import connect
from schemas import EXTRACTS
from schemas import checks as ck
from tests.build import AS_OF, Extracts, make_upn, person

UPN = make_upn(1)


@pytest.fixture
def run_validation(extracts: Extracts):
    """Load and validate one extract's rows; return (counts, staged, rejects, warnings)."""
    def go(name: str, rows: list[dict]):
        for row in rows:
            extracts.add(name, **row)
        folder = extracts.write()
        with connect(":memory:") as con:
            extract.load_all(con, folder, EXTRACTS)
            counts = {c.extract: c for c in validate.validate_all(
                con, EXTRACTS, AS_OF)}
            staged = con.execute(f"select * from work.stg_{name} order by source_row").df()
            rejects = con.execute("select * from work.rejects where extract = $e order by "
                                  "\"row\"", {"e": name}).df()
            warnings = con.execute("select * from work.value_warnings where extract = $e "
                                   "order by \"row\"", {"e": name}).df()
        return counts[name], staged, rejects, warnings
    return go


def claim(**overrides) -> dict:
    row = {**person("Ann", "Lee", "2001-02-03", "1 High St", "CH41 1AA"), "nino": "AB123456C",
           "benefit": "jsa", "claim_start": "2024-01-01", "claim_end": ""}
    return {**row, **overrides}


def pupil_term(**overrides) -> dict:
    row = {**person("Jo", "Lee", "2012-02-03", "1 High St", "CH41 1AA"), "upn": UPN,
           "school_urn": "123456", "academic_year": "2024/25", "term": "autumn",
           "sessions_possible": "120", "sessions_authorised_absence": "4",
           "sessions_unauthorised_absence": "10", "provision": ""}
    return {**row, **overrides}


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-03-05", "2024-03-05"),   # ISO
    ("05/03/2024", "2024-03-05"),   # UK order, never US
    ("5/3/2024", "2024-03-05"),
    ("29/02/2024", "2024-02-29"),   # a real leap day
])
def test_iso_and_uk_dates_are_read(run_validation, value, expected):
    _counts, staged, rejects, _ = run_validation("benefits", [claim(claim_start=value)])
    assert rejects.empty
    assert staged.loc[0, "claim_start_date"].date().isoformat() == expected


@pytest.mark.parametrize("value", ["01/13/2025", "31/02/2025", "2025-13-01", "March 2024",
                                   "2024-02-30", "1899-12-31"])
def test_unreadable_or_impossible_dates_reject_a_row_that_needs_them(run_validation, value):
    counts, _staged, rejects, _ = run_validation("benefits", [claim(claim_start=value), claim()])
    assert (counts.rows_read, counts.rows_staged, counts.rows_rejected) == (2, 1, 1)
    assert rejects.loc[0, "row"] == 1
    assert rejects.loc[0, "column"] == "claim_start"
    assert json.loads(rejects.loc[0, "raw_values"])["claim_start"] == value


def test_blank_claim_end_means_still_in_payment_but_an_end_before_start_is_rejected(
        run_validation):
    _counts, staged, rejects, _ = run_validation("benefits", [
        claim(claim_end=""), claim(claim_start="2024-05-01", claim_end="2024-04-30")])
    assert staged["claim_end_date"].isna().tolist() == [True]
    assert rejects.loc[0, "problem"] == "claim ends before it starts"


@pytest.mark.parametrize(("column", "value", "problem"), [
    ("nino", "", "missing value"),
    ("nino", "QQ123456C", "not a valid National Insurance number"),   # Q is never a prefix
    ("nino", "GB123456A", "not a valid National Insurance number"),   # GB is not allocated
    ("benefit", "jobseekers", "not one of"),
    ("claim_start", "", "missing value"),
])
def test_keys_and_rule_fields_reject_the_row(run_validation, column, value, problem):
    counts, staged, rejects, _ = run_validation("benefits", [claim(**{column: value})])
    assert counts.rows_rejected == 1 and staged.empty
    assert rejects.loc[0, "column"] == column
    assert rejects.loc[0, "problem"].startswith(problem)


def test_nino_and_codes_are_normalised_before_checking(run_validation):
    _, staged, rejects, _ = run_validation("benefits", [claim(nino="ab 12 34 56 c",
                                                              benefit=" JSA ")])
    assert rejects.empty
    assert staged.loc[0, "nino"] == "AB123456C" and staged.loc[0, "benefit"] == "jsa"


@pytest.mark.parametrize(("column", "value"), [
    ("postcode", "NOT A POSTCODE"),
    ("date_of_birth", "2030-01-01"),      # after the as-of date: impossible
    ("date_of_birth", "31/31/2001"),
    ("gender", "male"),
])
def test_bad_person_values_are_nulled_and_counted_and_the_row_kept(run_validation, column,
                                                                    value):
    counts, staged, rejects, warnings = run_validation("benefits", [claim(**{column: value})])
    assert rejects.empty and counts.rows_staged == 1 and counts.values_nulled == 1
    assert pd.isna(staged.loc[0, column])
    assert warnings.loc[0, "column"] == column and warnings.loc[0, "row"] == 1


def test_postcodes_are_formatted_whatever_their_spacing_and_case(run_validation):
    _, staged, _, _ = run_validation("benefits", [claim(postcode="ch411aa"),
                                                  claim(postcode=" CH41  1AA ")])
    assert staged["postcode"].tolist() == ["CH41 1AA", "CH41 1AA"]


def test_sessions_arithmetic_and_counts(run_validation):
    counts, _staged, rejects, _ = run_validation("school_attendance", [
        pupil_term(),
        pupil_term(sessions_authorised_absence="60", sessions_unauthorised_absence="61"),
        pupil_term(sessions_possible="-4"),
        pupil_term(sessions_authorised_absence="60", sessions_unauthorised_absence="60"),
    ])
    assert (counts.rows_read, counts.rows_staged, counts.rows_rejected) == (4, 2, 2)
    assert rejects["row"].tolist() == [2, 3]
    assert rejects.loc[0, "problem"] == \
        "authorised + unauthorised absence exceeds sessions possible"
    assert "not a whole number" in rejects.loc[1, "problem"]


@pytest.mark.parametrize(("column", "value"), [
    ("sessions_possible", "１２０"),          # full-width digits: a regex \d would pass them
    ("academic_year", "２０２４/25"),
    ("academic_year", "2024/26"),
])
def test_counts_and_years_need_ascii_digits_in_the_right_shape(run_validation, column, value):
    counts, staged, rejects, _ = run_validation("school_attendance",
                                                [pupil_term(**{column: value}), pupil_term()])
    assert (counts.rows_staged, counts.rows_rejected) == (1, 1)
    assert rejects.loc[0, "column"] == column and staged["source_row"].tolist() == [2]


def test_term_and_provision_codes_are_case_insensitive_and_blank_provision_is_mainstream(
        run_validation):
    _, staged, rejects, _ = run_validation("school_attendance", [
        pupil_term(term="Autumn", provision=""), pupil_term(term="SPRING", provision="PRU")])
    assert rejects.empty
    assert staged["term"].tolist() == ["autumn", "spring"]
    assert staged["provision"].tolist() == ["mainstream", "pru"]


def test_upn_with_a_wrong_check_letter_is_kept_for_linkage_but_flagged(run_validation):
    bad = ("A" if UPN[0] != "A" else "B") + UPN[1:]
    _counts, staged, rejects, warnings = run_validation("school_attendance", [
        pupil_term(), pupil_term(upn=bad)])
    assert rejects.empty
    assert staged["is_upn_valid"].tolist() == [True, False]
    assert warnings.loc[0, "problem"] == "UPN check letter does not match (kept)"


def test_exclusion_synonyms_become_suspension_and_future_dates_are_rejected(run_validation):
    rows = [{"upn": UPN, "category": c, "start_date": "2025-01-10"}
            for c in ("fixed", "fixed_term", "Suspension", "permanent")]
    rows.append({"upn": UPN, "category": "suspension", "start_date": "2025-10-01"})
    _counts, staged, rejects, _ = run_validation("school_exclusions", rows)
    assert staged["category"].tolist() == ["suspension", "suspension", "suspension",
                                           "permanent"]
    assert rejects.loc[0, "row"] == 5
    assert rejects.loc[0, "problem"] == "date after the as-of date 2025-09-30"


def test_asb_interventions_need_a_known_type_but_incidents_are_free_text(run_validation):
    base = {**person("Ann", "Lee", "2001-02-03", "1 High St", "CH41 1AA"), "asb_ref": "A1",
            "date": "2025-01-01"}
    _counts, staged, rejects, _ = run_validation("asb", [
        {**base, "record_type": "intervention", "type": "ABC"},
        {**base, "record_type": "incident", "type": "Noise at night"},
        {**base, "record_type": "intervention", "type": "stern word"},
    ])
    assert staged["asb_type"].tolist() == ["abc", "Noise at night"]
    assert rejects.loc[0, "column"] == "type"


def test_every_row_is_staged_or_rejected(run_validation):
    rows = [claim(), claim(nino=""), claim(postcode="X"), claim(benefit="??"), claim()]
    counts, staged, rejects, _ = run_validation("benefits", rows)
    assert counts.rows_read == len(rows) == len(staged) + len(rejects)
    assert sorted([*staged["source_row"], *rejects["row"]]) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("prefix", ["BG", "GB", "NK", "KN", "TN", "NT", "ZZ"])
def test_the_seven_national_insurance_prefixes_never_issued_are_refused(prefix):
    """Refused by a list beside the pattern (Rust's regular expressions have no
    look-ahead); a neighbour passes."""
    schema = pap.DataFrameSchema({"nino": pap.Column(checks=[ck.nino()])})
    with pytest.raises(pap.errors.SchemaErrors) as failed:
        schema.validate(pl.DataFrame({"nino": [f"{prefix}123456C", f"{prefix[0]}A123456C"]}),
                        lazy=True)
    assert failed.value.failure_cases.get_column("index").to_list() == [0]


def test_checked_rows_are_not_kept_in_the_database_unless_debugging(extracts, tmp_path):
    """The checked rows live in a temporary table until their extract is staged; a debug
    run keeps them in the debug schema."""
    extracts.add("benefits", **claim())
    folder = extracts.write()
    for debug in (False, True):
        with connect(tmp_path / f"run-{debug}.duckdb", debug=debug) as con:
            extract.load_all(con, folder, EXTRACTS)
            validate.validate_all(con, EXTRACTS, AS_OF)
            tables = {(schema, name) for schema, name in con.execute(
                "select schema_name, table_name from duckdb_tables() "
                "where table_name like 'checked_%'").fetchall()}
            assert con.execute("select count(*) from work.stg_benefits").fetchone() == (1,)
        assert tables == ({("debug", f"checked_{name}") for name in EXTRACTS} if debug
                          else set())


@pytest.mark.parametrize(("length", "kept"), [(100, True), (101, False)])
def test_names_up_to_100_characters_are_kept(run_validation, length, kept):
    counts, staged, _, warnings = run_validation("benefits", [claim(surname="L" * length)])
    assert counts.rows_staged == 1
    assert (staged.loc[0, "surname"] == "L" * length) if kept else pd.isna(staged.loc[0, "surname"])
    assert warnings.empty is kept


def test_vectorised_upn_check_agrees_with_python_stdnum():
    """Every shape of UPN: right and wrong check letters, known and unknown local
    authorities, short, lower case, spaced, letters where digits go, missing."""
    rng = random.Random(3)
    values = []
    for _ in range(20_000):
        body = (f"{rng.choice([201, 202, 800, 938, 999, 100, 0])}".zfill(3)
                + f"{rng.randint(0, 10**8 - 1):08d}" + rng.choice("0123456789ABCZ"))
        letter = (stdnum_upn.calc_check_digit(body) if rng.random() < 0.6
                  else rng.choice(ck.UPN_ALPHABET + "IOS"))
        value = letter + body
        roll = rng.random()
        if roll < 0.05:
            value = value[:-1]
        elif roll < 0.1:
            value = value.lower()
        elif roll < 0.12:
            value = value[:5] + " " + value[5:]
        elif roll < 0.14:
            value = value[:6] + "X" + value[7:]
        values.append(value)
    got = pl.select(ck.upn_is_valid(pl.lit(pl.Series([*values, None])))).to_series()
    assert got[:-1].to_list() == [stdnum_upn.is_valid(v) for v in values]
    assert got[-1] is None
    assert 0.2 < got[:-1].mean() < 0.6  # both outcomes well represented


def test_validation_in_batches_gives_what_one_batch_gives(run_validation, monkeypatch):
    """Rows are validated BATCH_ROWS at a time; with batches of 3 rows, the staged rows,
    rejects, warnings and counts are those of one batch."""
    upn_bad = UPN[1:] + ("A" if UPN[-1] != "A" else "B")
    rows = [pupil_term(), pupil_term(date_of_birth="31/02/2012"), pupil_term(upn=upn_bad),
            pupil_term(term="winter"), pupil_term(postcode="not a postcode"), pupil_term(),
            pupil_term(sessions_possible="x"), pupil_term(), pupil_term(gender="?")]
    whole = run_validation("school_attendance", rows)
    monkeypatch.setattr(validate, "BATCH_ROWS", 3)
    batched = run_validation("school_attendance", [])  # same folder: the rows are there
    assert batched[0] == whole[0]
    for a, b in zip(whole[1:], batched[1:], strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert whole[0].rows_rejected > 0 and len(whole[3]) > 0


GAZETTEER_ROW = {"uprn": "100", "address": "1 Mill Lane, Birkenhead", "postcode": "CH41 4LA",
                 "ward": "Oxton"}


@pytest.mark.parametrize(("easting", "northing", "staged"), [
    ("330512", "388015", (330512.0, 388015.0)),
    ("330512.37", "388015.5", (330512.37, 388015.5)),   # as LLPG exports write them
    ("700000", "1300000", (700000.0, 1300000.0)),       # the National Grid's far corner
    ("0", "0", (0.0, 0.0)),
])
def test_gazetteer_grid_points_are_staged(run_validation, easting, northing, staged):
    counts, df, _, warnings = run_validation(
        "gazetteer", [{**GAZETTEER_ROW, "easting": easting, "northing": northing}])
    assert counts.rows_staged == 1 and warnings.empty
    assert (df.loc[0, "easting"], df.loc[0, "northing"]) == staged


@pytest.mark.parametrize(("column", "value"), [
    ("easting", "700001"), ("easting", "700000.5"), ("northing", "1300001"),
    ("easting", "-5"), ("northing", "388 015"), ("easting", "E330512"),
])
def test_a_bad_grid_point_is_nulled_with_its_pair_and_the_property_kept(run_validation, column,
                                                                       value):
    row = {**GAZETTEER_ROW, "easting": "330512", "northing": "388015", column: value}
    counts, df, rejects, warnings = run_validation("gazetteer", [row])
    assert counts.rows_staged == 1 and rejects.empty
    assert list(warnings["column"]) == [column]
    assert warnings["problem"].str.startswith("not a grid coordinate in metres").all()
    # half a point is no point: the map leaves the property out
    assert df[["easting", "northing"]].isna().all(axis=None)


def test_a_gazetteer_without_grid_points_is_read(tmp_path):
    folder = tmp_path / "extracts"
    Extracts(folder).write()
    (folder / "gazetteer.csv").write_text("uprn,address,postcode,ward\n"
                                          "100,\"1 Mill Lane, Birkenhead\",CH41 4LA,Oxton\n")
    with connect(":memory:") as con:
        extract.load_all(con, folder, EXTRACTS)
        validate.validate_all(con, EXTRACTS, AS_OF)
        got = con.execute("select uprn, easting, northing from work.stg_gazetteer").fetchall()
    assert got == [("100", None, None)]
