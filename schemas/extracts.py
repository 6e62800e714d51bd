"""One pandera model per extract, as extracts.md describes them.

Every column is declared with a *policy*: ``reject`` for the fields a row cannot be
used without (the source's own key and the codes, dates and counts the rules read),
``null`` for the rest (person columns and other optional detail), whose bad values
are nulled and counted while the row is kept. Models validate the raw text (trimmed,
blanks as null, codes lower-cased) with pandera's Polars backend, which names each
failing row; :mod:`pipelines.validate` types the values after.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import pandera.polars as pa
import polars as pl

from schemas import checks as ck
from schemas import codes

Policy = Literal["reject", "null"]
Kind = Literal["text", "code", "date", "int", "postcode", "nino", "upn"]


@dataclass(frozen=True)
class ColumnSpec:
    """How one extract column is checked and typed."""

    policy: Policy
    kind: Kind = "text"
    checks: tuple[pa.Check, ...] = ()
    required: bool = True  # the column must be in the file (a missing one is fatal)
    not_after_as_of: bool = False  # a later date is impossible for this field
    nullable: bool | None = None  # default: only ``null``-policy columns may be blank


@dataclass(frozen=True)
class RowCheck:
    """A rule across columns; a failing row gets ``problem`` against ``column``. ``test``
    is true where the row is valid; where it cannot tell (a value missing or unreadable,
    which other checks catch) the row passes."""

    name: str
    column: str
    problem: str
    test: pl.Expr


@dataclass(frozen=True)
class Events:
    """How an extract's staged rows (``stg_<name>``) become events for the event rules of
    a rule set: the column holding each event's code, the date columns a rule may count
    by (and an age rule may take the age on), and the columns a rule may filter on."""

    code: str
    dates: tuple[str, ...]
    filters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Person:
    """How an extract's staged rows (``stg_<name>``, as ``s``) are people's records, for
    linkage (``sql/standardise/std_person_records.sql`` and ``std_person_keys.sql``):
    ``record_date``, the SQL of the record's own date, which decides a person's current
    address (``$as_of`` bound; ``join`` adds what it needs); ``keys``, the columns
    holding identifiers of a system, each named for its system; ``named``, whether the
    rows carry the person columns (forename … uprn) or only an identifier."""

    record_date: str
    keys: tuple[str, ...]
    join: str = ""
    named: bool = True


@dataclass(frozen=True)
class ExtractSpec:
    """An input extract, declared once: its file name, whether it must be supplied, its
    columns with their checks, how its rows are people's records (``person``; none for
    an extract of families, properties or spells) and how its rows become events for the
    rules (``events``; none for an extract the rules read otherwise or not at all)."""

    name: str
    required: bool
    columns: dict[str, ColumnSpec]
    row_checks: tuple[RowCheck, ...] = ()
    person: Person | None = None
    description: str = ""
    events: Events | None = None

    @property
    def required_columns(self) -> list[str]:
        return [c for c, s in self.columns.items() if s.required]

    def schema(self, as_of: dt.date) -> pa.DataFrameSchema:
        """The pandera model for this extract at one as-of date."""
        columns = {}
        for name, spec in self.columns.items():
            extra: list[pa.Check] = []
            if spec.kind == "date":
                extra = [ck.date(), ck.plausible_date()]
                if spec.not_after_as_of:
                    extra.append(ck.not_after(as_of))
            columns[name] = pa.Column(
                dtype=None,
                nullable=spec.policy == "null" if spec.nullable is None else spec.nullable,
                required=spec.required,
                checks=[*spec.checks, *extra],
                metadata={"policy": spec.policy},
            )
        row_checks = [
            pa.Check(lambda data, rc=rc: data.lazyframe.select(rc.test.fill_null(True)),
                     name=rc.name, error=rc.problem)
            for rc in self.row_checks
        ]
        return pa.DataFrameSchema(columns, checks=row_checks, strict=False, name=self.name)


def _not_after(early: pl.Expr, late: pl.Expr) -> pl.Expr:
    """``early <= late``; null (passing) where either is missing."""
    return early <= late


def _num(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Float64, strict=False)


def _dates(column: str) -> pl.Expr:
    return pl.col(ck.parsed(column))


def key(*checks: pa.Check, kind: Kind = "text") -> ColumnSpec:
    return ColumnSpec("reject", kind, checks)


def rule(kind: Kind, *checks: pa.Check, not_after_as_of: bool = False,
         blank_allowed: bool = False) -> ColumnSpec:
    """A field the rules read: a bad value rejects the row (blank only if allowed)."""
    return ColumnSpec("reject", kind, checks, not_after_as_of=not_after_as_of,
                      nullable=blank_allowed)


def detail(kind: Kind = "text", *checks: pa.Check, required: bool = True,
           not_after_as_of: bool = False) -> ColumnSpec:
    return ColumnSpec("null", kind, checks, required=required, not_after_as_of=not_after_as_of)


NAME = ck.max_length(100)

PERSON_COLUMNS: dict[str, ColumnSpec] = {
    "forename": detail("text", NAME),
    "surname": detail("text", NAME),
    "date_of_birth": detail("date", not_after_as_of=True),
    "gender": detail("code", ck.code(codes.GENDERS), required=False),
    "address": detail("text"),
    "postcode": detail("postcode", ck.matches(ck.POSTCODE, "UK postcode")),
    "uprn": detail("text", ck.matches(r"[0-9]{1,12}", "UPRN (up to 12 digits)"), required=False),
}

WHOLE = ck.whole_number()
PROFILE_KEY = ck.matches(r"K[0-9a-f]{16}", "profile key (K and 16 hexadecimal digits)")
NINO = ck.nino()

EXTRACTS: dict[str, ExtractSpec] = {
    spec.name: spec
    for spec in (
        ExtractSpec(
            "school_attendance",
            required=True,
            person=Person(record_date="least(t.term_end_date, $as_of::date)",
                          keys=("upn",),
                          join="left join ref_terms as t using (academic_year, term)"),
            description="one row per pupil per term",
            columns={
                **PERSON_COLUMNS,
                "upn": key(ck.matches(r"[A-Z0-9]{13}", "UPN (13 characters)"), kind="upn"),
                "school_urn": detail("text", ck.matches(r"[0-9]{6}", "school URN (6 digits)")),
                "academic_year": rule("text", ck.academic_year()),
                "term": rule("code", ck.code(codes.TERMS)),
                "sessions_possible": rule("int", WHOLE),
                "sessions_authorised_absence": rule("int", WHOLE),
                "sessions_unauthorised_absence": rule("int", WHOLE),
                "provision": detail("code", ck.code(codes.PROVISIONS)),
            },
            row_checks=(
                RowCheck(
                    "absence_within_possible",
                    "sessions_unauthorised_absence",
                    "authorised + unauthorised absence exceeds sessions possible",
                    _not_after(_num("sessions_authorised_absence")
                               + _num("sessions_unauthorised_absence"),
                               _num("sessions_possible")),
                ),
            ),
        ),
        ExtractSpec(
            "school_exclusions",
            required=True,
            person=Person(record_date="s.start_date", keys=("upn",), named=False),
            description="one row per exclusion",
            columns={
                "upn": key(ck.matches(r"[A-Z0-9]{13}", "UPN (13 characters)"), kind="upn"),
                "school_urn": detail("text", ck.matches(r"[0-9]{6}", "school URN (6 digits)")),
                "category": rule("code", ck.code(codes.EXCLUSION_CATEGORIES)),
                "start_date": rule("date", not_after_as_of=True),
                "sessions": detail("int", WHOLE, required=False),
            },
        ),
        ExtractSpec(
            "police_offences",
            required=True,
            person=Person(record_date="s.disposal_date", keys=("police_ref",)),
            description="one row per offence outcome",
            columns={
                **PERSON_COLUMNS,
                "police_ref": key(),
                "offence_date": rule("date", not_after_as_of=True),
                "disposal_date": rule("date", not_after_as_of=True),
                "disposal": rule("code", ck.code(codes.DISPOSALS)),
            },
            events=Events(code="disposal", dates=("offence_date", "disposal_date")),
            row_checks=(
                RowCheck(
                    "offence_before_disposal",
                    "offence_date",
                    "offence date after disposal date",
                    _not_after(_dates("offence_date"), _dates("disposal_date")),
                ),
            ),
        ),
        ExtractSpec(
            "asb",
            required=True,
            person=Person(record_date="s.asb_date", keys=("asb_ref",)),
            description="one row per ASB incident or intervention",
            columns={
                **PERSON_COLUMNS,
                "asb_ref": key(),
                "record_type": rule("code", ck.code(codes.ASB_RECORD_TYPES)),
                "date": rule("date", not_after_as_of=True),
                "type": detail("text"),
            },
            events=Events(code="asb_type", dates=("asb_date",), filters=("record_type",)),
            row_checks=(
                RowCheck(
                    "intervention_type",
                    "type",
                    "intervention type not one of: " + ", ".join(codes.ASB_INTERVENTIONS),
                    (pl.col("record_type").str.to_lowercase() != "intervention")
                    | pl.col("type").str.to_lowercase().is_in(codes.ASB_INTERVENTIONS)
                    .fill_null(False),
                ),
            ),
        ),
        ExtractSpec(
            "benefits",
            required=True,
            person=Person(record_date="least(coalesce(s.claim_end_date, $as_of::date), "
                          "$as_of::date)", keys=("nino",)),
            description="one row per benefit claim (DWP data-match return)",
            columns={
                **PERSON_COLUMNS,
                "nino": key(NINO, kind="nino"),
                "benefit": rule("code", ck.code(codes.BENEFITS)),
                "claim_start": rule("date"),
                "claim_end": rule("date", blank_allowed=True),
            },
            row_checks=(
                RowCheck(
                    "claim_end_after_start",
                    "claim_end",
                    "claim ends before it starts",
                    _not_after(_dates("claim_start"), _dates("claim_end")),
                ),
            ),
        ),
        ExtractSpec(
            "employment",
            required=False,
            description="one row per work spell",
            columns={
                "nino": key(NINO, kind="nino"),
                "kind": rule("code", ck.code(codes.EMPLOYMENT_KINDS)),
                "start_date": rule("date", not_after_as_of=True),
                "end_date": rule("date", blank_allowed=True),
            },
            row_checks=(
                RowCheck(
                    "end_after_start",
                    "end_date",
                    "spell ends before it starts",
                    _not_after(_dates("start_date"), _dates("end_date")),
                ),
            ),
        ),
        ExtractSpec(
            "local_indicators",
            required=False,
            person=Person(record_date="s.recorded_date",
                          keys=("upn", "nino", "police_ref", "asb_ref")),
            description="one row per recorded indicator",
            columns={
                **PERSON_COLUMNS,
                "upn": detail("upn", ck.matches(r"[A-Z0-9]{13}", "UPN (13 characters)"),
                              required=False),
                "nino": detail("nino", NINO, required=False),
                "police_ref": detail("text", required=False),
                "asb_ref": detail("text", required=False),
                "source_ref": key(),
                "indicator": rule("code", ck.matches(r"[a-z0-9_]+", "indicator code")),
                "recorded_date": rule("date", not_after_as_of=True),
            },
            events=Events(code="indicator", dates=("recorded_date",)),
        ),
        ExtractSpec(
            "gazetteer",
            required=False,
            description="one row per property (LLPG)",
            columns={
                "uprn": key(ck.matches(r"[0-9]{1,12}", "UPRN (up to 12 digits)")),
                "address": detail("text"),
                "postcode": detail("postcode", ck.matches(ck.POSTCODE, "UK postcode")),
                "ward": detail("text"),
                "lsoa": detail("text", ck.matches(r"[EW]01[0-9]{6}", "LSOA code"), required=False),
                "imd_decile": detail("int", ck.whole_number(10),
                                     ck.matches(r"[1-9]|10", "decile 1-10"), required=False),
                # the property's British National Grid point (LLPG X/Y), for the hotspot map
                "easting": detail("text", ck.grid_metres(700_000), required=False),
                "northing": detail("text", ck.grid_metres(1_300_000), required=False),
            },
        ),
        ExtractSpec(
            "match_decisions",
            required=False,
            description="one row per pair of identities a person confirmed or rejected "
                        "(from review_queue.csv)",
            columns={
                "profile_key_l": key(PROFILE_KEY),
                "profile_key_r": key(PROFILE_KEY),
                "decision": rule("code", ck.code(codes.MATCH_DECISIONS)),
                "reviewed_by": detail("text", required=False),
                "reviewed_on": detail("date", required=False, not_after_as_of=True),
            },
        ),
        ExtractSpec(
            "attachments",
            required=False,
            description="one row per family attached to the programme",
            columns={
                "family_id": key(),
                "attached_date": rule("date", not_after_as_of=True),
                "closed_date": rule("date", blank_allowed=True),
            },
        ),
        ExtractSpec(
            "claims_history",
            required=False,
            description="one row per result already claimed",
            columns={
                "family_id": key(),
                "result": rule("code", ck.code(codes.CLAIM_RESULTS)),
                "claimed_date": rule("date", not_after_as_of=True),
            },
        ),
    )
}
