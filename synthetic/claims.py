"""Synthetic outcome period for payment by results, with its truth.

Reads a generated borough (its extracts and ``truth/``) and the database of its screening,
attaches cohort families (a few back-dated), and writes a copy of the extracts extended to
a later as-of date: new school terms, ASB incidents and youth offences before attachment
and in the last six months, benefit claims that ended, employment and Work Programme or
ESF spells, and a claims history. Each family's outcome for each result is decided first
(seeded) and the records are written to match; ``truth/claims.csv`` holds the status the
claims run must give every (family, result).

The mapping from family_id to generated household comes from the screening database (a
council takes attachments from the cohort file): this module is for synthetic data only.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import shutil
from collections import defaultdict
from pathlib import Path

import duckdb

from pipelines.extract import sniff

D = dt.date
TERMS = [("autumn", 12, 31, 0), ("spring", 3, 31, 1), ("summer", 7, 31, 1)]
CAE, CE, PTW = "crime_asb_education", "continuous_employment", "progress_to_work"
CLAIMS_AS_OF = D(2026, 7, 31)


def family_households(db: Path, truth: Path) -> dict[str, str]:
    """family_id → generated household, by most of the family's linked records, a tie to
    the smallest household id (as ``synthetic.quality``: ``mode()`` breaks ties in thread
    order, and the claims period would differ from one generation to the next)."""
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("""
        with t as (select * from read_csv($r, all_varchar = true) where person_id <> ''),
        p as (select * from read_csv($p, all_varchar = true))
        select family_id, first(household_id order by n_records desc, household_id)
        from (
            select fm.family_id, p.household_id, count(*) as n_records
            from family_members as fm
            join person_records as pr using (person_id)
            join t on t.extract = pr.extract_name and cast(t.source_row as bigint) = pr.source_row
            join p on p.person_id = t.person_id
            group by all
        )
        group by family_id""",
                       {"r": str(truth / "records.csv"), "p": str(truth / "persons.csv")}
                       ).fetchall()
    cohort = {f for (f,) in con.execute("select family_id from cohort").fetchall()}
    con.close()
    return {f: h for f, h in rows if f in cohort}


class Extract:
    """One extract file: its rows as read, the truth person of each, and its encoding."""

    def __init__(self, folder: Path, name: str, people: list[str]) -> None:
        self.path = folder / f"{name}.csv"
        self.encoding = sniff(self.path)[0] if self.path.exists() else "utf-8"
        if self.path.exists():
            with self.path.open(encoding=self.encoding, newline="") as f:
                self.rows = list(csv.DictReader(f))
        else:
            self.rows = []
        self.people = people + [""] * (len(self.rows) - len(people))

    def add(self, person: str, row: dict) -> None:
        self.rows.append(row)
        self.people.append(person)

    def of(self, person: str) -> list[dict]:
        return [r for r, p in zip(self.rows, self.people, strict=True) if p == person]

    def write(self, folder: Path, columns: list[str]) -> None:
        columns = list(self.rows[0]) if self.rows else columns
        with (folder / self.path.name).open("w", encoding=self.encoding, newline="",
                                            errors="replace") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(self.rows)


PERSON = ("forename", "surname", "date_of_birth", "gender", "address", "postcode")


class OutcomePeriod:
    """Decides outcomes for attached families and writes the records that bring them about."""

    def __init__(self, extracts: Path, db: Path, as_of: D, seed: int) -> None:
        self.rng = random.Random(seed)
        self.as_of = as_of
        truth = extracts / "truth"
        records = defaultdict(list)
        with (truth / "records.csv").open() as f:
            for r in csv.DictReader(f):
                records[r["extract"]].append(r["person_id"])
        names = ["school_attendance", "school_exclusions", "police_offences", "asb",
                 "benefits", "local_indicators", "gazetteer", "employment", "attachments",
                 "claims_history"]
        self.source = extracts
        self.x = {n: Extract(extracts, n, records.get(n, [])) for n in names}
        with (truth / "households.csv").open() as f:
            self.households = {h["household_id"]: h for h in csv.DictReader(f)}
        with (truth / "persons.csv").open() as f:
            self.members = defaultdict(list)
            for p in csv.DictReader(f):
                self.members[p["household_id"]].append(p["person_id"])
        self.families = family_households(db, truth)
        self.truth: list[tuple[str, str, str]] = []
        self._serial = 0

    # -- helpers -------------------------------------------------------------------
    def identity(self, person: str) -> dict | None:
        for name in ("benefits", "school_attendance", "police_offences", "asb",
                     "local_indicators"):
            rows = self.x[name].of(person)
            if rows:
                return {c: rows[0].get(c, "") for c in PERSON}
        return None

    def key(self, person: str, extract: str, column: str) -> str | None:
        for row in self.x[extract].of(person):
            if row.get(column):
                return row[column]
        return None

    def days(self, end: D, low: int, high: int) -> D:
        return end - dt.timedelta(days=self.rng.randint(low, high))

    def dob(self, person: str) -> D | None:
        who = self.identity(person)
        if not who or not who["date_of_birth"]:
            return None
        text = who["date_of_birth"]
        return D.fromisoformat(text) if "-" in text else dt.datetime.strptime(
            text, "%d/%m/%Y").date()

    # -- outcomes ----------------------------------------------------------------------
    def education(self, household: dict, success: bool) -> None:
        pupils = [p for p in self.members[household["household_id"]]
                  if self.key(p, "school_attendance", "upn")]
        failing = self.rng.choice(pupils) if pupils and not success else None
        for pupil in pupils:
            base = self.x["school_attendance"].of(pupil)[0]
            for term, month, day, offset in TERMS:
                first_year = self.as_of.year - 1
                if D(first_year + offset, month, day) > self.as_of:
                    continue
                possible = self.rng.randint(110, 140)
                rate = 0.2 if pupil == failing else self.rng.uniform(0.0, 0.1)
                self.x["school_attendance"].add(pupil, {
                    **base, "academic_year": f"{first_year}/{(first_year + 1) % 100:02d}",
                    "term": term, "sessions_possible": str(possible),
                    "sessions_authorised_absence": "0",
                    "sessions_unauthorised_absence": str(round(possible * rate)),
                    "provision": ""})

    def asb(self, household: dict, attached: D, success: bool) -> None:
        person = household["crime_person_id"]
        ref = self.key(person, "asb", "asb_ref") or self.new_ref("ASBN")
        who = self.identity(person)
        baseline = self.rng.randint(3, 5)
        outcome = (baseline * 2) // 5 if success else baseline + 1
        for when in [self.days(attached, 5, 170) for _ in range(baseline)] + \
                [self.days(self.as_of, 5, 170) for _ in range(outcome)]:
            self.x["asb"].add(person, {**who, "asb_ref": ref, "record_type": "incident",
                                       "date": when.isoformat(), "type": "noise nuisance"})

    def offending(self, household: dict, attached: D, success: bool) -> bool:
        """Youth offences; a failure needs the youth still under 18 at the as-of date."""
        youth = household["crime_person_id"]
        dob = self.dob(youth)
        if dob is None or (self.as_of.year - dob.year - (
                (self.as_of.month, self.as_of.day) < (dob.month, dob.day))) >= 18:
            success = True
        who, ref = self.identity(youth), self.key(youth, "police_offences", "police_ref")
        baseline = self.rng.randint(2, 3)
        # one more than planned: no fall even if earlier offences join the baseline
        outcome = 0 if success else baseline + 1
        for when in [self.days(attached, 5, 170) for _ in range(baseline)] + \
                [self.days(self.as_of, 5, 170) for _ in range(outcome)]:
            self.x["police_offences"].add(youth, {
                **who, "police_ref": ref, "offence_date": (when - dt.timedelta(days=3))
                .isoformat(), "disposal_date": when.isoformat(), "disposal": "youth_caution"})
        return success

    def employment(self, household: dict, attached: D, success: bool) -> str:
        """The status continuous employment must get."""
        adult, benefit = household["work_person_id"], household["work_benefit"]
        claims = [r for r in self.x["benefits"].of(adult)
                  if r["benefit"] == benefit and not r["claim_end"]]
        if not claims:
            return "not_applicable"
        claim = claims[0]
        start = claim["claim_start"]
        started = D.fromisoformat(start) if "-" in start else \
            dt.datetime.strptime(start, "%d/%m/%Y").date()
        if started > attached:
            return "not_applicable"
        nino = claim["nino"]
        if success:
            ended = attached + dt.timedelta(days=10)
            claim["claim_end"] = ended.isoformat()
            self.x["employment"].add(adult, {"nino": nino, "kind": "employment",
                                             "start_date": (ended + dt.timedelta(days=1))
                                             .isoformat(), "end_date": ""})
            return "claimable"
        if self.rng.random() < 0.5:  # still on the benefit
            self.x["employment"].add(adult, {"nino": nino, "kind": "employment",
                                             "start_date": self.days(self.as_of, 200, 220)
                                             .isoformat(), "end_date": ""})
        else:  # off it, but not long enough in work
            claim["claim_end"] = self.days(self.as_of, 80, 90).isoformat()
            self.x["employment"].add(adult, {"nino": nino, "kind": "employment",
                                             "start_date": self.days(self.as_of, 50, 60)
                                             .isoformat(), "end_date": ""})
        return "not_yet"

    def progress(self, household: dict) -> bool:
        adult = household["work_person_id"] or next(
            (p for p in self.members[household["household_id"]]
             if self.key(p, "benefits", "nino")), "")
        nino = self.key(adult, "benefits", "nino") if adult else None
        if not nino or self.rng.random() > 0.35:
            return False
        self.x["employment"].add(adult, {
            "nino": nino, "kind": self.rng.choice(["work_programme", "esf"]),
            "start_date": self.days(self.as_of, 5, 170).isoformat(), "end_date": ""})
        return True

    def new_ref(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}{self._serial:06d}"

    # -- the whole period ------------------------------------------------------------
    def build(self, share: float = 0.7) -> None:
        families = sorted(self.families.items())
        attached = [fh for fh in families if self.rng.random() < share]
        for i, (family_id, household_id) in enumerate(attached):
            hh = self.households[household_id]
            when = D(2025, 6, 1) if i < 2 else \
                D(self.as_of.year - 1, 10, 1) + dt.timedelta(days=self.rng.randint(0, 90))
            self.x["attachments"].add("", {"family_id": family_id,
                                           "attached_date": when.isoformat(),
                                           "closed_date": ""})
            planned = self.rng.random() < 0.5
            met = []  # one outcome per component that applies; the result needs them all
            if hh["education"] == "true":
                self.education(hh, planned)
                met.append(planned)
            if hh["crime_mode"] == "offence":
                met.append(self.offending(hh, when, planned))
            elif hh["crime_mode"] in ("asb", "housing"):
                self.asb(hh, when, planned)
                met.append(planned)
            statuses = {CAE: "not_applicable" if not met
                        else "claimable" if all(met) else "not_yet"}
            statuses[CE] = self.employment(hh, when, self.rng.random() < 0.4) \
                if hh["work"] == "true" else "not_applicable"
            if self.rng.random() < 0.1:  # a result already claimed
                result = self.rng.choice([CAE, CE, PTW])
                self.x["claims_history"].add("", {"family_id": family_id, "result": result,
                                                  "claimed_date": self.days(self.as_of, 10, 60)
                                                  .isoformat()})
                statuses[result] = "already_claimed"
            if statuses[CE] in ("claimable", "already_claimed"):
                statuses.setdefault(PTW, "not_applicable")
            else:
                started = self.progress(hh)
                statuses.setdefault(PTW, "claimable" if started else "not_yet")
            for result in (CAE, CE, PTW):
                self.truth.append((family_id, result, statuses[result]))

    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        columns = {"employment": ["nino", "kind", "start_date", "end_date"],
                   "attachments": ["family_id", "attached_date", "closed_date"],
                   "claims_history": ["family_id", "result", "claimed_date"]}
        for name, extract in self.x.items():
            if extract.rows or name in columns:
                extract.write(out, columns.get(name, []))
        (out / "truth").mkdir(exist_ok=True)
        with (out / "truth" / "claims.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["family_id", "result", "status"])
            writer.writerows(self.truth)
        for name in ("records.csv", "persons.csv", "households.csv"):
            shutil.copy(self.source / "truth" / name, out / "truth" / name)


def generate_claims(extracts: Path, db: Path, out: Path, as_of: D = CLAIMS_AS_OF,
                    seed: int = 7) -> None:
    """Write the outcome period's extracts and ``truth/claims.csv`` into ``out``."""
    period = OutcomePeriod(extracts, db, as_of, seed)
    period.build()
    period.write(out)


def main() -> None:
    p = argparse.ArgumentParser(description="Generate a payment-by-results outcome period.")
    p.add_argument("--extracts", type=Path, required=True, help="the generated borough")
    p.add_argument("--db", type=Path, required=True, help="its screening database")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--as-of", type=D.fromisoformat, default=CLAIMS_AS_OF)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    generate_claims(args.extracts, args.db, args.out, args.as_of, args.seed)


if __name__ == "__main__":
    main()
