"""Payment by results at and around every threshold (rules.md, payment-by-results).

Each case is a household identified in a screening as at 30 Sep 2025, attached on 1 Oct
2025 (unless the case says otherwise), then given outcome-period records; claims are
evaluated as at 31 Jul 2026. Windows: the last 6 months are 1 Feb – 31 Jul 2026; the 6
months to attachment 2 Apr – 1 Oct 2025; the last 3 complete terms autumn 2025, spring
2026 and summer 2026.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import pytest

from tests.build import Extracts, case_row, runs, steps

D = dt.date
T1, T2, ATTACHED = D(2025, 9, 30), D(2026, 7, 31), D(2025, 10, 1)
NEW_TERMS = [("2025/26", "autumn"), ("2025/26", "spring"), ("2025/26", "summer")]
OLD_TERMS = [("2024/25", "autumn"), ("2024/25", "spring"), ("2024/25", "summer")]


@dataclass
class Case:
    name: str
    expect: dict[str, str]                    # result → status
    identified: list[tuple[str, str, dict]]   # records at the screening
    outcome: list[tuple[str, str, dict]] = field(default_factory=list)
    attached: dt.date | None = ATTACHED
    claimed: list[str] = field(default_factory=list)


def terms(rates, terms=NEW_TERMS, possible=1000, who="child"):
    """Attendance rows; ``rates`` are unauthorised sessions per term."""
    return [("school_attendance", who, {
        "academic_year": y, "term": t, "sessions_possible": possible,
        "sessions_authorised_absence": 0, "sessions_unauthorised_absence": u,
        "provision": ""}) for (y, t), u in zip(terms, rates, strict=False)]


def suspensions(*dates):
    return [("school_exclusions", "child", {"category": "suspension", "start_date": d})
            for d in dates]


def incidents(*dates):
    return [("asb", "adult", {"record_type": "incident", "date": d, "type": "noise"})
            for d in dates]


def offences(*dates, dob=D(2010, 1, 1)):
    return [("police_offences", "child", {"offence_date": d, "disposal_date": d,
                                           "disposal": "youth_caution", "_dob": dob})
            for d in dates]


def claim(benefit="esa", start=D(2024, 1, 1), end=None):
    return [("benefits", "adult", {"benefit": benefit, "claim_start": start,
                                   "claim_end": end})]


def work(start, end=None, kind="employment"):
    return [("employment", "adult", {"kind": kind, "start_date": start, "end_date": end})]


LOCAL = [("local_indicators", "adult", {"indicator": "domestic_abuse",
                                        "recorded_date": D(2025, 2, 1)})]
# identified problems: each with work (on a benefit) and the local filter, so it qualifies
EDUCATION = terms([300, 300, 300], OLD_TERMS) + claim() + LOCAL
INTERVENTION = [("asb", "adult", {"record_type": "intervention", "date": D(2025, 3, 1),
                                  "type": "abc"})]
ASB = INTERVENTION + claim() + LOCAL
YOUTH = offences(D(2025, 1, 15)) + claim() + LOCAL
NO_WORK = terms([300, 300, 300], OLD_TERMS) + ASB[:1] + LOCAL   # crime + education + local

CAE, CE, PTW = "crime_asb_education", "continuous_employment", "progress_to_work"

CASES = [
    # education: every child under 3 suspensions and under 15% over the last 3 terms
    Case("absence_14_9_two_suspensions", {CAE: "claimable"}, EDUCATION,
         terms([149, 149, 149]) + suspensions(D(2025, 11, 1), D(2026, 2, 1))),
    Case("absence_15_0", {CAE: "not_yet"}, EDUCATION, terms([150, 150, 150])),
    Case("third_suspension", {CAE: "not_yet"}, EDUCATION,
         terms([0, 0, 0]) + suspensions(D(2025, 11, 1), D(2026, 2, 1), D(2026, 5, 1))),
    Case("school_records_for_two_terms", {CAE: "not_yet"}, EDUCATION, terms([0, 0])),
    # ASB incidents: a 60% fall, last 6 months against the 6 months to attachment
    Case("asb_60_percent_fall", {CAE: "claimable"}, ASB,
         incidents(*[D(2025, 5, d) for d in (1, 2, 3, 4, 5)])
         + incidents(D(2026, 3, 1), D(2026, 4, 1))),
    Case("asb_40_percent_fall", {CAE: "not_yet"}, ASB,
         incidents(*[D(2025, 5, d) for d in (1, 2, 3, 4, 5)])
         + incidents(D(2026, 3, 1), D(2026, 4, 1), D(2026, 5, 1))),
    Case("asb_no_incidents_before_attachment", {CAE: "not_yet"}, ASB, []),
    Case("asb_baseline_window_edges", {CAE: "claimable"}, ASB,
         # 2 Apr 2025 and 1 Oct 2025 are in the baseline; 1 Apr 2025 is not; an outcome
         # incident on 31 Jan 2026 is before the last 6 months
         incidents(D(2025, 4, 1), D(2025, 4, 2), D(2025, 10, 1), D(2026, 1, 31))),
    Case("asb_attached_too_recently", {CAE: "not_yet"}, ASB,
         incidents(D(2026, 1, 10), D(2026, 1, 20)), attached=D(2026, 3, 1)),
    Case("attached_back_dated_after_baseline_events", {CAE: "claimable", CE: "not_yet"}, ASB,
         incidents(D(2025, 1, 10), D(2025, 3, 10), D(2025, 5, 10), D(2026, 3, 1)),
         attached=D(2025, 6, 1)),
    # youth offending: a 33% fall in proven offences by under-18s
    Case("offences_3_to_2", {CAE: "claimable"}, YOUTH,
         offences(D(2025, 5, 1), D(2025, 6, 1), D(2025, 7, 1))
         + offences(D(2026, 3, 1), D(2026, 4, 1))),
    Case("offences_3_to_3", {CAE: "not_yet"}, YOUTH,
         offences(D(2025, 5, 1), D(2025, 6, 1), D(2025, 7, 1))
         + offences(D(2026, 3, 1), D(2026, 4, 1), D(2026, 5, 1))),
    # education was never a problem: a child's absence now does not count against them
    Case("education_not_a_problem_at_identification", {CAE: "claimable"}, ASB,
         incidents(D(2025, 5, 1)) + terms([400, 400, 400])),
    # continuous employment: off benefits, 26 weeks unbroken (13 for former JSA claimants)
    Case("employed_exactly_26_weeks", {CE: "claimable", PTW: "not_applicable"}, ASB,
         claim(end=D(2026, 1, 20)) + work(D(2026, 1, 31))
         + work(D(2026, 3, 1), kind="work_programme")),
    Case("employed_26_weeks_less_a_day", {CE: "not_yet"}, ASB,
         claim(end=D(2026, 1, 20)) + work(D(2026, 2, 1))),
    Case("former_jsa_13_weeks", {CE: "claimable"},
         ASB[:1] + claim("jsa") + LOCAL, claim("jsa", end=D(2026, 4, 30)) + work(D(2026, 5, 2))),
    Case("former_jsa_13_weeks_less_a_day", {CE: "not_yet"},
         ASB[:1] + claim("jsa") + LOCAL, claim("jsa", end=D(2026, 4, 30)) + work(D(2026, 5, 3))),
    Case("adjoining_spells_are_unbroken", {CE: "claimable"}, ASB,
         claim(end=D(2025, 12, 31)) + work(D(2026, 1, 1), D(2026, 3, 31))
         + work(D(2026, 4, 1), D(2026, 7, 31))),
    Case("a_day_between_spells_breaks_them", {CE: "not_yet"}, ASB,
         claim(end=D(2025, 12, 31)) + work(D(2026, 1, 1), D(2026, 3, 31))
         + work(D(2026, 4, 2))),
    Case("employed_but_still_on_benefit", {CE: "not_yet"}, ASB, work(D(2025, 11, 1))),
    Case("no_adult_on_benefit_at_attachment", {CE: "not_applicable"}, NO_WORK, []),
    # progress to work: Work Programme or ESF in the last 6 months, where CE is not claimable
    Case("work_programme_on_first_day_of_window", {PTW: "claimable"}, ASB,
         work(D(2026, 2, 1), kind="work_programme")),
    Case("esf_day_before_window", {PTW: "not_yet"}, ASB, work(D(2026, 1, 31), kind="esf")),
    # a result is claimed once
    Case("already_claimed", {CAE: "already_claimed", PTW: "already_claimed"}, ASB,
         incidents(D(2025, 5, 1), D(2025, 6, 1)) + work(D(2026, 3, 1), kind="esf"),
         claimed=[CAE, PTW]),
]


@pytest.fixture(scope="module")
def candidates(tmp_path_factory) -> dict[tuple[int, str], dict]:
    """Screen at T1, attach, add the outcome period, evaluate claims at T2."""
    folder = tmp_path_factory.mktemp("claims")
    ex = Extracts(folder / "t1")
    for n, case in enumerate(CASES, start=1):
        for extract, who, row in case.identified:
            ex.add(extract, **case_row(n, extract, who, row))
    db = folder / "familyscreen.duckdb"
    run, rules = runs.prepare(ex.write(), T1.isoformat(), folder / "out1", db, None)
    steps.execute(run, rules)
    families = dict(duckdb.connect(str(db), read_only=True).execute(
        "select address, family_id from families").fetchall())

    ex.folder = folder / "t2"
    ex.rows.setdefault("employment", [])
    for n, case in enumerate(CASES, start=1):
        family_id = families[f"{n} Case Street, Testtown"]
        if case.attached:
            ex.add("attachments", family_id=family_id, attached_date=case.attached)
        for result in case.claimed:
            ex.add("claims_history", family_id=family_id, result=result,
                   claimed_date=D(2026, 6, 1))
        for extract, who, row in case.outcome:
            if extract == "benefits":  # the DWP return now shows the claim's end
                ex.rows["benefits"] = [r for r in ex.rows["benefits"]
                                       if r["nino"] != f"AB{n:06d}C"]
            ex.add(extract, **case_row(n, extract, who, row))
    ex.add("attachments", family_id="F999999", attached_date=ATTACHED)
    run, rules = runs.prepare(ex.write(), T2.isoformat(), folder / "out2", db, None, "claims")
    counts = steps.execute(run, rules)
    assert counts["claimable"] > 0
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("select * from pbr_candidates").df().to_dict("records")
    number = {f: int(a.split()[0]) for a, f in families.items()}
    out = {(number.get(r["family_id"], 0), r["result"]): r for r in rows}
    assert (folder / "out2" / "pbr_candidates.csv").exists()
    return out


@pytest.mark.parametrize(("n", "case"), list(enumerate(CASES, start=1)),
                         ids=[c.name for c in CASES])
def test_result_status(candidates, n, case):
    for result, status in case.expect.items():
        row = candidates[(n, result)]
        assert row["status"] == status, f"{case.name} {result}: {row}"
        if status == "not_yet":
            assert row["missing"], "a result not yet met says what is missing"
        if status == "claimable":
            assert row["value_gbp"] > 0


def test_unknown_family_is_not_applicable(candidates):
    rows = [r for (n, _), r in candidates.items() if n == 0]
    assert {r["status"] for r in rows} == {"not_applicable"}
    assert "no screening cohort" in rows[0]["evidence"]


def test_claimable_evidence_names_records_and_figures(candidates):
    n = next(i for i, c in enumerate(CASES, start=1) if c.name == "employed_exactly_26_weeks")
    row = candidates[(n, CE)]
    assert "26.0 weeks unbroken employment 31 Jan 2026 – 31 Jul 2026" in row["evidence"]
    assert "off out-of-work benefits now" in row["evidence"]
    n = next(i for i, c in enumerate(CASES, start=1) if c.name == "asb_60_percent_fall")
    assert "ASB incidents: 5 in the 6 months to attachment, 2 in the last 6 months (60% fewer)" \
        in candidates[(n, CAE)]["evidence"]
