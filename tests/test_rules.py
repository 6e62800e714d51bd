"""Every window and threshold of rules.md at its boundary, on both sides.

One small borough is screened once (as at 30 Sep 2025): each case is a household at its
own address, built to sit just inside or just outside one rule. The last three complete
terms at that date are autumn 2024, spring 2025 and summer 2025 (window from 1 Sep 2024);
the 12 months up to it run from 1 Oct 2024 (30 Sep 2024 is outside).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines import CRITERIA_DIR
from pipelines.criteria import EVENT_EXTRACTS, TermsRule
from pipelines.db import RunError, connect
from pipelines.rule_set import load_rule_set
from schemas import EXTRACTS
from tests.build import Extracts, case_row, letters, screen

D = dt.date
TERMS = [("2024/25", "autumn"), ("2024/25", "spring"), ("2024/25", "summer")]


@dataclass
class Case:
    name: str
    expect: dict[str, object]
    records: list[tuple[str, str, dict]] = field(default_factory=list)  # (extract, who, row)


def offence(disposal, offence_date=None, code="caution", dob=D(2009, 1, 1)):
    return [("police_offences", "child", {
        "police_ref": "", "offence_date": offence_date or disposal - dt.timedelta(days=10),
        "disposal_date": disposal, "disposal": code, "_dob": dob})]


def asb(kind, when=D(2025, 3, 1), record_type="intervention"):
    return [("asb", "adult", {"record_type": record_type, "date": when, "type": kind})]


def attendance(unauthorised, possible=(100, 100, 100), terms=TERMS, provision="", dob=None):
    """One row a term; ``provision`` one code for all terms or one per term."""
    provisions = [provision] * len(terms) if isinstance(provision, str) else provision
    rows = []
    for (year, term), u, p, prov in zip(terms, unauthorised, possible, provisions, strict=True):
        rows.append(("school_attendance", "child", {
            "academic_year": year, "term": term, "sessions_possible": p,
            "sessions_authorised_absence": 0, "sessions_unauthorised_absence": u,
            "provision": prov, **({"_dob": dob} if dob else {})}))
    return rows


def exclusions(*dates, category="suspension"):
    return attendance([0, 0, 0]) + [("school_exclusions", "child", {
        "category": category, "start_date": d}) for d in dates]


def claim(benefit="jsa", start=D(2024, 1, 1), end=None):
    return [("benefits", "adult", {"benefit": benefit, "claim_start": start, "claim_end": end})]


def indicator(code="domestic_abuse", when=D(2025, 2, 1)):
    return [("local_indicators", "adult", {"indicator": code, "recorded_date": when})]


CASES = [
    # crime / ASB: proven offence by an under-18, 12 months up to the as-of date
    Case("offence_in_window", {"crime_asb": True}, offence(D(2025, 1, 15))),
    Case("offence_on_day_window_opens", {"crime_asb": True}, offence(D(2024, 10, 1))),
    Case("offence_day_before_window", {"crime_asb": False}, offence(D(2024, 9, 30))),
    Case("offence_on_as_of_date", {"crime_asb": True}, offence(D(2025, 9, 30))),
    Case("offence_at_17_now_18", {"crime_asb": True},
         offence(D(2025, 7, 1), offence_date=D(2025, 5, 31), dob=D(2007, 6, 1))),
    Case("offence_on_18th_birthday", {"crime_asb": False},
         offence(D(2025, 7, 1), offence_date=D(2025, 6, 1), dob=D(2007, 6, 1))),
    Case("offence_nfa_not_proven", {"crime_asb": False}, offence(D(2025, 1, 15), code="nfa")),
    Case("community_resolution_not_proven", {"crime_asb": False},
         offence(D(2025, 1, 15), code="community_resolution")),
    Case("asb_abc", {"crime_asb": True}, asb("abc")),
    Case("asb_cbo", {"crime_asb": True}, asb("cbo")),
    Case("asb_warning_letter_not_intervention", {"crime_asb": False}, asb("warning_letter")),
    Case("asb_incident_not_intervention", {"crime_asb": False},
         asb("asbo", record_type="incident")),
    Case("housing_nosp", {"crime_asb": True}, asb("nosp_asb")),
    Case("housing_demotion_day_before_window", {"crime_asb": False},
         asb("demotion_order", when=D(2024, 9, 30))),
    # education: last 3 complete terms
    Case("absence_15_0", {"education": True}, attendance([15, 15, 15])),
    Case("absence_14_9", {"education": False},
         attendance([50, 50, 49], possible=(334, 333, 333))),
    Case("absence_only_in_older_term", {"education": False},
         attendance([90, 0, 0, 0], possible=(100, 100, 100, 100),
                    terms=[("2023/24", "summer"), *TERMS])),
    Case("absence_pupil_18_on_as_of", {"education": False},
         attendance([45, 45, 45], dob=D(2007, 9, 30))),
    Case("absence_pupil_18_day_after", {"education": True},
         attendance([45, 45, 45], dob=D(2007, 10, 1))),
    Case("third_suspension", {"education": True},
         exclusions(D(2024, 11, 1), D(2025, 2, 1), D(2025, 5, 1))),
    Case("two_suspensions", {"education": False}, exclusions(D(2024, 11, 1), D(2025, 2, 1))),
    Case("suspension_on_window_start", {"education": True},
         exclusions(D(2024, 9, 1), D(2025, 2, 1), D(2025, 5, 1))),
    Case("suspension_day_before_window", {"education": False},
         exclusions(D(2024, 8, 31), D(2025, 2, 1), D(2025, 5, 1))),
    Case("permanent_exclusion", {"education": True},
         exclusions(D(2025, 6, 1), category="permanent")),
    Case("pupil_referral_unit", {"education": True}, attendance([0, 0, 0], provision="pru")),
    Case("alternative_provision_before_window", {"education": False},
         attendance([0, 0, 0, 0], possible=(100, 100, 100, 100),
                    terms=[("2023/24", "summer"), *TERMS],
                    provision=("alternative_provision", "", "", ""))),
    # work: out-of-work benefit on the as-of date
    Case("jsa_in_payment", {"work": True}, claim()),
    Case("claim_starts_on_as_of", {"work": True}, claim(start=D(2025, 9, 30))),
    Case("claim_starts_day_after", {"work": False}, claim(start=D(2025, 10, 1))),
    Case("claim_ends_on_as_of", {"work": True}, claim(end=D(2025, 9, 30))),
    Case("claim_ended_day_before", {"work": False}, claim(end=D(2025, 9, 29))),
    Case("pip_not_out_of_work", {"work": False}, claim("pip")),
    Case("uc_no_work_not_phase1", {"work": False}, claim("uc_no_work")),
    Case("carers_allowance", {"work": True}, claim("ca")),
    # local filter: 12 months
    Case("local_in_window", {"local_filter": True}, indicator()),
    Case("local_on_day_window_opens", {"local_filter": True}, indicator(when=D(2024, 10, 1))),
    Case("local_day_before_window", {"local_filter": False}, indicator(when=D(2024, 9, 30))),
    Case("local_code_not_in_filter", {"local_filter": False}, indicator("missing_education")),
    # qualifying: all three, or two plus the local filter
    Case("all_three", {"qualifies_by": "all_three"},
         offence(D(2025, 1, 15)) + attendance([45, 45, 45]) + claim()),
    Case("two_plus_local", {"qualifies_by": "two_plus_local"},
         offence(D(2025, 1, 15)) + claim() + indicator()),
    Case("two_without_local", {"qualifies_by": None}, attendance([45, 45, 45]) + claim()),
    Case("one_plus_local", {"qualifies_by": None}, claim() + indicator()),
    # evidence read aloud: several records of one rule are one phrase
    Case("two_asb_interventions", {"crime_asb": True},
         asb("cbo", when=D(2025, 1, 6)) + asb("asbo", when=D(2024, 12, 9))),
]


def build_borough(extracts: Extracts, cases: list[Case]) -> None:
    """One household a case, at '<n> Case Street, Testtown'."""
    for n, case in enumerate(cases, start=1):
        for extract, who, row in case.records:
            extracts.add(extract, **case_row(n, extract, who, row))


@pytest.fixture(scope="module")
def borough(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    folder = tmp_path_factory.mktemp("rules")
    ex = Extracts(folder / "extracts")
    build_borough(ex, CASES)
    run, _ = screen(ex.write(), folder / "out")
    con = duckdb.connect(str(run.db), read_only=True)
    yield con
    con.close()


def family_row(con, n: int) -> dict:
    cur = con.execute("""
        select fc.*, f.address from work.family_criteria as fc
        join work.families as f using (family_id)
        where f.address = $a""", {"a": f"{n} Case Street, Testtown"})
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1, f"case {n}: expected one household, found {len(rows)}"
    return dict(zip(names, rows[0], strict=True))


@pytest.mark.parametrize(("n", "case"), list(enumerate(CASES, start=1)),
                         ids=[c.name for c in CASES])
def test_rule_boundary(borough, n, case):
    row = family_row(borough, n)
    for key, expected in case.expect.items():
        assert row[key] == expected, f"{case.name}: {key} is {row[key]}, expected {expected}"


def test_evidence_names_the_source_record_and_reads_plainly(borough):
    n = next(i for i, c in enumerate(CASES, start=1) if c.name == "absence_15_0")
    rows = borough.execute("""
        select e.extract, e.source_row, e.detail from work.criteria_evidence as e
        join work.families as f using (family_id)
        where f.address = $a order by e.source_row""",
                           {"a": f"{n} Case Street, Testtown"}).fetchall()
    assert len(rows) == 3 and {r[0] for r in rows} == {"school_attendance"}
    assert rows[0][2] == ("15.0% unauthorised absence over autumn 2024 – summer 2025 "
                          "(45 of 300 sessions)")


@pytest.mark.parametrize(("case_name", "line"), [
    ("third_suspension", "3 suspensions (1 Nov 2024, 1 Feb, 1 May 2025)"),
    ("permanent_exclusion", "1 permanent exclusion (1 Jun 2025)"),
    ("asb_abc", "ASB intervention (abc) on 1 Mar 2025"),
    ("two_asb_interventions", "2 ASB interventions (asbo 9 Dec 2024, cbo 6 Jan 2025)"),
    ("pupil_referral_unit", "pupil referral unit / alternative provision (pru) in "
                            "autumn 2024, spring 2025, summer 2025"),
    ("absence_15_0", "15.0% unauthorised absence over autumn 2024 – summer 2025 "
                     "(45 of 300 sessions)"),
    ("jsa_in_payment", "out-of-work benefit (JSA) since 1 Jan 2024"),
])
def test_one_evidence_line_per_person_and_criterion(borough, case_name, line):
    """The Gateway CSVs' line: a rule's records counted with their dates, once."""
    n = next(i for i, c in enumerate(CASES, start=1) if c.name == case_name)
    rows = borough.execute("""
        select e.line from work.evidence_lines as e
        join work.families as f using (family_id)
        where f.address = $a""", {"a": f"{n} Case Street, Testtown"}).fetchall()
    assert rows == [(line,)]


def test_cohort_evidence_is_a_line_per_member_and_criterion(borough):
    n = next(i for i, c in enumerate(CASES, start=1) if c.name == "all_three")
    (family,) = borough.execute("""
        select c.evidence from work.cohort as c join work.families as f using (family_id)
        where f.address = $a""", {"a": f"{n} Case Street, Testtown"}).fetchone()
    members = dict(borough.execute("""
        select m.forename, m.evidence from work.cohort_members as m
        join work.families as f using (family_id) where f.address = $a""",
                                   {"a": f"{n} Case Street, Testtown"}).fetchall())
    surname = "Case" + letters(n)
    assert family.split(" | ") == [
        f"Adult A. {surname}: out-of-work benefit (JSA) since 1 Jan 2024",
        f"Child R. {surname}: proven offence (caution) on 15 Jan 2025",
        f"Child S. {surname}: 45.0% unauthorised absence over autumn 2024 – summer 2025 "
        "(135 of 300 sessions)"]
    assert members == {
        "Alex": "out-of-work benefit (JSA) since 1 Jan 2024",
        "Robin": "proven offence (caution) on 15 Jan 2025",
        "Sam": "45.0% unauthorised absence over autumn 2024 – summer 2025 (135 of 300 sessions)"}


@pytest.mark.parametrize(("as_of", "newest_term"), [
    (D(2025, 7, 31), "summer 2025"),   # a term is complete on its end date
    (D(2025, 7, 30), "spring 2025"),
    (D(2025, 1, 1), "autumn 2024"),
    (D(2024, 12, 30), "summer 2024"),
])
def test_last_complete_terms_end_on_or_before_the_as_of_date(as_of, newest_term):
    rules = load_rule_set(CRITERIA_DIR / "phase1.yaml")
    with connect(":memory:") as con:
        rules.calendar.create_terms_table(con)
        labels = [r[0] for r in con.execute(
            f"select term_label from {TermsRule.window_sql('x')} order by term_seq desc",
            {"as_of": as_of, "x_terms": 3}).fetchall()]
    assert labels[0] == newest_term and len(labels) == 3


@pytest.mark.parametrize(("dob", "on", "age"), [
    (D(2008, 9, 30), D(2025, 9, 30), 17),
    (D(2007, 9, 30), D(2025, 9, 30), 18),   # 18th birthday: adult that day
    (D(2007, 10, 1), D(2025, 9, 30), 17),
    (D(2008, 2, 29), D(2026, 2, 28), 17),   # a leap-day birthday falls on 1 March
    (D(2008, 2, 29), D(2026, 3, 1), 18),
])
def test_age_on_a_date(dob, on, age):
    with connect(":memory:") as con:
        assert con.execute("select age_on($d::date, $o::date)", {"d": dob, "o": on}
                           ).fetchone()[0] == age


def test_phase2_is_a_new_file_not_new_code(tmp_path):
    """The phase 2 rule set (2 of 6 headline problems) runs through the same engine."""
    ex = Extracts(tmp_path / "extracts")
    build_borough(ex, [
        Case("uc_and_domestic_abuse", {}, claim("uc_no_work") + indicator()),
        Case("only_uc", {}, claim("uc_no_work")),
        Case("absence_10_and_cin", {}, attendance([10, 10, 10]) + indicator("child_in_need")),
    ])
    run, _counts = screen(ex.write(), tmp_path / "out", criteria=CRITERIA_DIR / "phase2.yaml")
    con = duckdb.connect(str(run.db), read_only=True)
    got = dict(con.execute("select address, qualifies_by from work.family_criteria "
                           "join work.families using (family_id)").fetchall())
    assert got == {"1 Case Street, Testtown": "two_of_six", "2 Case Street, Testtown": None,
                   "3 Case Street, Testtown": "two_of_six"}
    header = (Path(run.out) / "cohort_families.csv").read_text(encoding="utf-8-sig")
    assert "worklessness,domestic_abuse,health" in header.splitlines()[0]


def test_the_extracts_of_events_are_those_whose_declaration_says_how():
    assert EVENT_EXTRACTS == ["police_offences", "asb", "local_indicators"]
    assert EXTRACTS["asb"].events.filters == ("record_type",)


@pytest.mark.parametrize(("extract", "problem"), [
    ("benefits", "asb_intervention: benefits is not an extract of events (one of police_offences, "
                 "asb, local_indicators)"),
    ("court_orders", "asb_intervention: court_orders is not an extract of events"),
])
def test_an_event_rule_on_an_extract_without_events_stops_the_run_in_one_line(
        tmp_path, extract, problem):
    text = (CRITERIA_DIR / "phase1.yaml").read_text(encoding="utf-8")
    rules = yaml.safe_load(text)
    for criterion in rules["criteria"].values():
        for rule in criterion["any_of"]:
            if rule["name"] == "asb_intervention":
                rule["extract"] = extract
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    with pytest.raises(RunError, match=re.escape(problem)):
        load_rule_set(tmp_path / "r.yaml")
