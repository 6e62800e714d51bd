"""Settings a rule set carries beside its criteria: the school term calendar, the
payment-by-results results, the linkage thresholds and the warning thresholds. Values
only: the rule engine that turns criteria into SQL is :mod:`pipelines.criteria`, and the
rule set file as a whole :mod:`pipelines.rule_set`.
"""

from __future__ import annotations

from typing import Annotated, Literal

import duckdb
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pipelines.db import WORK

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
MonthDay = Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Term(Strict):
    """A school term: its nominal start and end, and the calendar year it falls in
    relative to the academic year's first year (autumn 0, spring and summer 1)."""

    name: Identifier
    start: MonthDay
    end: MonthDay
    year_offset: Literal[0, 1]


class Calendar(Strict):
    """The school term calendar (configuration, not code)."""

    terms: list[Term]

    def create_terms_table(self, con: duckdb.DuckDBPyConnection) -> None:
        """``ref_terms``: one row per academic year (1990/91–2099/00) and term, numbered
        in time order (``term_seq``) so that "the last N complete terms" is arithmetic."""
        rows = [(t.name, i, t.start, t.end, t.year_offset) for i, t in enumerate(self.terms)]
        con.execute(f"create or replace table {WORK}.ref_term_calendar (term varchar, "
                    "term_position integer, start_md varchar, end_md varchar, year_offset integer)")
        con.executemany(f"insert into {WORK}.ref_term_calendar values (?, ?, ?, ?, ?)", rows)
        con.execute(f"""create or replace table {WORK}.ref_terms as
            with years as (select range as first_year from range(1990, 2100))
            select
                first_year || '/' || lpad(cast((first_year + 1) % 100 as varchar), 2, '0')
                    as academic_year,
                c.term,
                cast(strptime((first_year + c.year_offset) || '-' || c.start_md, '%Y-%m-%d')
                    as date) as term_start_date,
                cast(strptime((first_year + c.year_offset) || '-' || c.end_md, '%Y-%m-%d')
                    as date) as term_end_date,
                c.term || ' ' || (first_year + c.year_offset) as term_label,
                cast(row_number() over (order by first_year, c.term_position) as integer)
                    as term_seq
            from years cross join {WORK}.ref_term_calendar as c""")


class AppliesIf(Strict):
    """A result component applies when the family's evidence at identification includes
    any of these criteria or rules."""

    criteria: list[Identifier] = []
    rules: list[Identifier] = []


class EducationResult(Strict):
    """Every child under ``max_suspensions + 1`` suspensions and below ``below_percent``
    unauthorised absence over the last ``terms`` complete terms."""

    applies_if: AppliesIf
    terms: int = Field(gt=0)
    max_suspensions: int = Field(ge=0)
    suspension_categories: list[Literal["suspension", "permanent"]] = Field(min_length=1)
    below_percent: float = Field(gt=0, le=100)


class ReductionResult(Strict):
    """Outcome count (last ``months``) at most (100 − ``min_reduction_percent``)% of the
    baseline count (the ``months`` up to attachment)."""

    applies_if: AppliesIf
    months: int = Field(gt=0)
    min_reduction_percent: float = Field(gt=0, le=100)
    record_types: list[Literal["incident", "intervention"]] = []
    codes: list[str] = []
    max_age_at_offence: int | None = None


class CrimeAsbEducation(Strict):
    amount: int = Field(ge=0)
    education: EducationResult
    asb: ReductionResult
    youth_offending: ReductionResult


class ContinuousEmployment(Strict):
    """An adult on ``benefits`` at attachment, off them now, with ``weeks`` of unbroken
    ``kinds`` spells since attachment (fewer for former claimants of some benefits)."""

    amount: int = Field(ge=0)
    benefits: list[str] = Field(min_length=1)
    kinds: list[Literal["employment", "work_programme", "esf"]] = Field(min_length=1)
    weeks: int = Field(gt=0)
    weeks_if_claimed: dict[str, int] = {}


class ProgressToWork(Strict):
    """An adult started ``kinds`` provision in the last ``months``."""

    amount: int = Field(ge=0)
    kinds: list[Literal["employment", "work_programme", "esf"]] = Field(min_length=1)
    months: int = Field(gt=0)


class PaymentByResults(Strict):
    crime_asb_education: CrimeAsbEducation
    continuous_employment: ContinuousEmployment
    progress_to_work: ProgressToWork


class Linkage(Strict):
    """Thresholds and training settings of probabilistic person linkage.

    A pair scoring at least ``accept_probability`` is linked; one in
    [``review_probability``, ``accept_probability``) waits for a person in the review
    queue. A link joining records with incompatible dates of birth or different
    identifiers of one system must score at least ``strong_probability`` or its cluster
    is split.
    """

    accept_probability: float = Field(0.95, gt=0, lt=1)
    review_probability: float = Field(0.5, gt=0, lt=1)
    strong_probability: float = Field(0.999, gt=0, lt=1)
    seed: int = 20121
    u_sample_pairs: int = Field(3_000_000, gt=0)
    min_label_pairs: int = Field(200, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Linkage:
        if not self.review_probability <= self.accept_probability <= self.strong_probability:
            raise ValueError("linkage thresholds must be review <= accept <= strong")
        return self


class Warnings(Strict):
    """When a run warns, and fails under ``--strict`` (:mod:`pipelines.run_warnings`):
    an extract with more than ``max_rejected_share`` of its rows rejected."""

    max_rejected_share: float = Field(0.05, ge=0, lt=1)
