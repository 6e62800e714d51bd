"""Criteria, the rule engine: a rule set's criteria → SQL → ``criteria_evidence``,
``family_flags``, ``family_criteria``.

A rule set names criteria; each criterion is met by a family when any of its rules
finds evidence for any member. Each kind of rule is one small class that renders a
``select`` of evidence rows (one row per person, rule and source record) with its
values as DuckDB parameters, and a readable detail for each row. The qualifying rules
("all three, or two plus the local filter"; "at least 2 of 6") are "at least N of
these, and all of those". A new rule set is a new YAML file, never new code.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

import duckdb
from pydantic import Field, model_validator

from pipelines.db import materialise, quote_ident
from pipelines.settings import Identifier, Strict
from schemas import EXTRACTS
from schemas.extracts import Events

if TYPE_CHECKING:
    from pipelines.rule_set import RuleSet

# The extracts whose rows are events for the event rules (their declarations say how).
EVENT_EXTRACTS = [name for name, spec in EXTRACTS.items() if spec.events is not None]


class Rule(Strict):
    """Base of the rule kinds. ``sql`` returns a select of evidence rows: family_id,
    person_id, rule, extract, source_row, event_date, detail (one record, read plainly)
    and code (the record's code, benefit or provision as read aloud; null when none).
    ``phrase_sql`` aggregates one person's rows of the rule into the phrase of the
    Gateway CSVs; by default each distinct detail once."""

    kind: str
    name: Identifier
    label: str
    role: Literal["adult", "child"] | None = None

    def sql(self, p: str) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def phrase_sql(self, p: str) -> tuple[str, dict[str, Any]]:
        return "string_agg(distinct e.detail, '; ' order by e.detail)", {}

    def _common(self, p: str) -> dict[str, Any]:
        return {f"{p}_rule": self.name, f"{p}_label": self.label, f"{p}_role": self.role}

    @staticmethod
    def _role_filter(p: str) -> str:
        return f"(${p}_role is null or m.role = ${p}_role)"


class EventRule(Rule):
    """A member has a record whose code is in ``codes`` dated in the last N months
    (as-of − N months < date ≤ as-of), optionally aged at most ``max_age_at_event`` on
    the date in ``age_date`` (the age on the offence date, say)."""

    kind: Literal["event"]
    extract: str  # an extract whose declaration says how its rows are events
    codes: list[str] = Field(min_length=1)
    date: str
    within_months: int = Field(gt=0)
    where: dict[str, list[str]] = Field(default_factory=dict)
    max_age_at_event: int | None = None
    age_date: str | None = None
    plural: str | None = None  # the label of several ("proven offences"); default label + s

    def events(self) -> Events:
        """How the rule's extract's rows are events, as its declaration says."""
        spec = EXTRACTS.get(self.extract)
        if spec is None or spec.events is None:
            raise ValueError(f"{self.name}: {self.extract} is not an extract of events "
                             f"(one of {', '.join(EVENT_EXTRACTS)})")
        return spec.events

    @model_validator(mode="after")
    def _columns_known(self) -> EventRule:
        source = self.events()
        for column in (self.date, self.age_date):
            if column is not None and column not in source.dates:
                raise ValueError(f"{self.name}: {self.extract} has no date '{column}' "
                                 f"(one of {', '.join(source.dates)})")
        for column in self.where:
            if column not in source.filters:
                raise ValueError(f"{self.name}: cannot filter {self.extract} on '{column}'")
        if (self.max_age_at_event is None) != (self.age_date is None):
            raise ValueError(f"{self.name}: max_age_at_event and age_date go together")
        return self

    def sql(self, p: str) -> tuple[str, dict[str, Any]]:
        source = self.events()
        table = quote_ident(f"stg_{self.extract}")
        code, when = quote_ident(source.code), quote_ident(self.date)
        params = self._common(p) | {f"{p}_extract": self.extract, f"{p}_codes": self.codes,
                                    f"{p}_months": self.within_months}
        conditions = [f"s.{code} in (select unnest(${p}_codes))",
                      f"in_months(s.{when}, $as_of::date, ${p}_months)", self._role_filter(p)]
        for i, (column, values) in enumerate(sorted(self.where.items())):
            conditions.append(f"s.{quote_ident(column)} in (select unnest(${p}_w{i}))")
            params[f"{p}_w{i}"] = values
        if self.age_date is not None:
            conditions.append(f"age_on(pe.date_of_birth, s.{quote_ident(self.age_date)}) "
                              f"<= ${p}_max_age")
            params[f"{p}_max_age"] = self.max_age_at_event
        sql = f"""
    select m.family_id, pr.person_id, ${p}_rule as rule, ${p}_extract as extract,
        s.source_row, s.{when} as event_date,
        ${p}_label || ' (' || replace(s.{code}, '_', ' ') || ') on '
            || strftime(s.{when}, '%-d %b %Y') as detail,
        replace(s.{code}, '_', ' ') as code
    from {table} as s
    join person_records as pr on pr.extract = ${p}_extract and pr.source_row = s.source_row
    join persons as pe on pe.person_id = pr.person_id
    join family_members as m on m.person_id = pr.person_id
    where {" and ".join(conditions)}"""
        return sql, params

    def phrase_sql(self, p: str) -> tuple[str, dict[str, Any]]:
        """One record as its detail; several counted, each code with its date, in date
        order ("2 local indicators (domestic abuse 2 Jun, substance misuse 13 Sep 2025)")."""
        phrase = f"""case when count(*) = 1 then any_value(e.detail)
            else count(*) || ' ' || ${p}_plural || ' ('
                || date_list(list(e.code order by e.event_date, e.code),
                             list(e.event_date order by e.event_date, e.code)) || ')' end"""
        return phrase, {f"{p}_plural": self.plural or f"{self.label}s"}


class TermsRule(Rule):
    """Base for rules over the last N complete school terms: the N newest terms whose
    end is on or before the as-of date."""

    terms: int = Field(default=3, gt=0)

    @staticmethod
    def window_sql(p: str) -> str:
        return f"""(select * from ref_terms
            where term_end_date <= $as_of::date
            order by term_seq desc limit ${p}_terms)"""


class AbsenceRule(TermsRule):
    """A pupil whose unauthorised absence over the last N complete terms is at least
    ``min_percent`` of possible sessions (summed over those terms)."""

    kind: Literal["absence"]
    min_percent: float = Field(gt=0, le=100)

    def sql(self, p: str) -> tuple[str, dict[str, Any]]:
        params = self._common(p) | {f"{p}_terms": self.terms, f"{p}_pct": self.min_percent}
        sql = f"""
    select a.family_id, a.person_id, ${p}_rule as rule, 'school_attendance' as extract,
        a.source_row, a.term_end_date as event_date,
        printf('%.1f%% ', 100.0 * a.n_unauthorised / a.n_possible) || ${p}_label || ' over '
            || b.first_term || ' – ' || b.last_term || ' (' || a.n_unauthorised || ' of '
            || a.n_possible || ' sessions)' as detail,
        null::varchar as code
    from (
        select m.family_id, pr.person_id, s.source_row, w.term_end_date,
            sum(s.sessions_unauthorised_absence) over per_pupil as n_unauthorised,
            sum(s.sessions_possible) over per_pupil as n_possible
        from stg_school_attendance as s
        join {self.window_sql(p)} as w using (academic_year, term)
        join person_records as pr
            on pr.extract = 'school_attendance' and pr.source_row = s.source_row
        join family_members as m on m.person_id = pr.person_id
        where {self._role_filter(p)}
        window per_pupil as (partition by pr.person_id)
    ) as a
    cross join (
        select arg_min(term_label, term_seq) as first_term,
            arg_max(term_label, term_seq) as last_term
        from {self.window_sql(p)}
    ) as b
    where a.n_possible > 0
        and 100 * a.n_unauthorised >= cast(${p}_pct as decimal(9, 4)) * a.n_possible"""
        return sql, params


class ExclusionRule(TermsRule):
    """A pupil with at least ``min_count`` exclusions of the given categories starting
    from the start of the oldest of the last N complete terms up to the as-of date."""

    kind: Literal["exclusions"]
    categories: list[Literal["suspension", "permanent"]] = Field(min_length=1)
    min_count: int = Field(gt=0)

    def sql(self, p: str) -> tuple[str, dict[str, Any]]:
        params = self._common(p) | {f"{p}_terms": self.terms, f"{p}_categories": self.categories,
                                    f"{p}_min": self.min_count}
        sql = f"""
    select e.family_id, e.person_id, ${p}_rule as rule, 'school_exclusions' as extract,
        e.source_row, e.start_date as event_date,
        e.n_exclusions || ' ' || ${p}_label || ' since ' || strftime(e.window_start, '%-d %b %Y')
            || ' (this one ' || strftime(e.start_date, '%-d %b %Y') || ')' as detail,
        null::varchar as code
    from (
        select m.family_id, pr.person_id, s.source_row, s.start_date, w.window_start,
            count(*) over (partition by pr.person_id) as n_exclusions
        from stg_school_exclusions as s
        cross join (select min(term_start_date) as window_start
                    from {self.window_sql(p)}) as w
        join person_records as pr
            on pr.extract = 'school_exclusions' and pr.source_row = s.source_row
        join family_members as m on m.person_id = pr.person_id
        where s.category in (select unnest(${p}_categories))
            and s.start_date >= w.window_start and s.start_date <= $as_of::date
            and {self._role_filter(p)}
    ) as e
    where e.n_exclusions >= ${p}_min"""
        return sql, params

    def phrase_sql(self, p: str) -> tuple[str, dict[str, Any]]:
        """The count and every date ("3 suspensions (16 Sep, 21 Oct, 4 Nov 2024)")."""
        phrase = (f"count(*) || ' ' || ${p}_label || ' (' "
                  "|| date_list([], list(e.event_date order by e.event_date)) || ')'")
        return phrase, {f"{p}_label": self.label}


class ProvisionRule(TermsRule):
    """A pupil recorded in one of ``provisions`` in any of the last N complete terms."""

    kind: Literal["provision"]
    provisions: list[Literal["pru", "alternative_provision", "mainstream"]] = Field(min_length=1)

    def sql(self, p: str) -> tuple[str, dict[str, Any]]:
        params = self._common(p) | {f"{p}_terms": self.terms, f"{p}_provisions": self.provisions}
        sql = f"""
    select m.family_id, pr.person_id, ${p}_rule as rule, 'school_attendance' as extract,
        s.source_row, w.term_end_date as event_date,
        ${p}_label || ' (' || replace(s.provision, '_', ' ') || ') in ' || w.term_label
            as detail,
        replace(s.provision, '_', ' ') as code
    from stg_school_attendance as s
    join {self.window_sql(p)} as w using (academic_year, term)
    join person_records as pr on pr.extract = 'school_attendance' and pr.source_row = s.source_row
    join family_members as m on m.person_id = pr.person_id
    where s.provision in (select unnest(${p}_provisions)) and {self._role_filter(p)}"""
        return sql, params

    def phrase_sql(self, p: str) -> tuple[str, dict[str, Any]]:
        """The provisions once and the terms in time order ("pupil referral unit /
        alternative provision (pru) in autumn 2024, spring 2025"); each term is the tail
        of its row's detail, which this class writes."""
        phrase = (f"${p}_label || ' (' || string_agg(distinct e.code, ', ' order by e.code) "
                  "|| ') in ' || array_to_string(list_transform(list_sort(list_distinct(list("
                  "{'d': e.event_date, 't': regexp_extract(e.detail, '^.*\\) in (.*)$', 1)})"
                  ")), x -> x.t), ', ')")
        return phrase, {f"{p}_label": self.label}


class BenefitRule(Rule):
    """A member in receipt of one of ``benefits`` on the as-of date: the claim started
    on or before it and did not end before it."""

    kind: Literal["benefit"]
    benefits: list[str] = Field(min_length=1)

    def sql(self, p: str) -> tuple[str, dict[str, Any]]:
        params = self._common(p) | {f"{p}_benefits": self.benefits}
        sql = f"""
    select m.family_id, pr.person_id, ${p}_rule as rule, 'benefits' as extract,
        s.source_row, s.claim_start_date as event_date,
        ${p}_label || ' (' || upper(s.benefit) || ') since '
            || strftime(s.claim_start_date, '%-d %b %Y') as detail,
        upper(s.benefit) as code
    from stg_benefits as s
    join person_records as pr on pr.extract = 'benefits' and pr.source_row = s.source_row
    join family_members as m on m.person_id = pr.person_id
    where s.benefit in (select unnest(${p}_benefits))
        and s.claim_start_date <= $as_of::date
        and (s.claim_end_date is null or s.claim_end_date >= $as_of::date)
        and {self._role_filter(p)}"""
        return sql, params


class MemberAgeRule(Rule):
    """A member aged between ``min_age`` and ``max_age`` on the as-of date."""

    kind: Literal["member_age"]
    min_age: int = Field(default=0, ge=0)
    max_age: int = Field(ge=0)

    def sql(self, p: str) -> tuple[str, dict[str, Any]]:
        params = self._common(p) | {f"{p}_min_age": self.min_age, f"{p}_max_age": self.max_age}
        sql = f"""
    select m.family_id, m.person_id, ${p}_rule as rule, null as extract,
        null::bigint as source_row, pe.date_of_birth as event_date,
        ${p}_label || ' (aged ' || m.age || ')' as detail,
        null::varchar as code
    from family_members as m
    join persons as pe on pe.person_id = m.person_id
    where m.age between ${p}_min_age and ${p}_max_age and {self._role_filter(p)}"""
        return sql, params


AnyRule = Annotated[
    EventRule | AbsenceRule | ExclusionRule | ProvisionRule | BenefitRule | MemberAgeRule,
    Field(discriminator="kind"),
]


class Criterion(Strict):
    """Met by a family when any of its rules finds evidence for any member."""

    label: str
    any_of: list[AnyRule] = Field(min_length=1)


class Qualifying(Strict):
    """At least ``at_least`` of ``of``, and every one of ``and_all``."""

    name: Identifier
    at_least: int = Field(ge=0)
    of: list[Identifier]
    and_all: list[Identifier] = Field(default_factory=list)


def evidence_sql(rules: RuleSet) -> tuple[str, dict[str, Any]]:
    """One union of every rule's evidence select, each tagged with its criterion."""
    parts, params = [], {}
    for ci, (criterion, spec) in enumerate(rules.criteria.items()):
        for ri, rule in enumerate(spec.any_of):
            p = f"c{ci}r{ri}"
            sql, rule_params = rule.sql(p)
            params |= rule_params | {f"{p}_criterion": criterion}
            parts.append(f"select ${p}_criterion as criterion, * from ({sql}\n)")
    return "\nunion all\n".join(parts), params


def evidence_lines_sql(rules: RuleSet) -> tuple[str, dict[str, Any]]:
    """One row per family, person and criterion met: the line the Gateway CSVs read out,
    each of the criterion's rules that found evidence as one phrase (counts and dates,
    not a line per record), in the rule set's order, joined by '; '."""
    parts, params = [], {}
    for ci, spec in enumerate(rules.criteria.values()):
        for ri, rule in enumerate(spec.any_of):
            p = f"c{ci}r{ri}"
            phrase, phrase_params = rule.phrase_sql(p)
            params |= phrase_params | {f"{p}_rule": rule.name}
            parts.append(f"""
    select e.family_id, e.person_id, e.criterion, {ci} as criterion_position,
        {ri} as rule_position, {phrase} as phrase
    from criteria_evidence as e
    where e.rule = ${p}_rule
    group by e.family_id, e.person_id, e.criterion""")
    union = "\n    union all".join(parts)
    sql = f"""
with phrases as ({union}
),

final as (
    select family_id, person_id, criterion, any_value(criterion_position) as criterion_position,
        string_agg(phrase, '; ' order by rule_position) as line
    from phrases
    group by family_id, person_id, criterion
)

select * from final order by family_id, person_id, criterion_position"""
    return sql, params


def family_criteria_sql(rules: RuleSet) -> tuple[str, dict[str, Any]]:
    """One row per family: a boolean column per criterion, the count met and the first
    qualifying rule the family meets (null when it does not qualify)."""
    params: dict[str, Any] = {}
    flags = []
    for i, name in enumerate(rules.criteria):
        params[f"k{i}"] = name
        flags.append(f"coalesce(bool_or(ff.is_met) filter (where ff.criterion = $k{i}), false)"
                     f" as {quote_ident(name)}")
    cases = []
    for i, q in enumerate(rules.qualifies):
        params[f"q{i}_name"], params[f"q{i}_at_least"] = q.name, q.at_least
        count = " + ".join(f"cast(f.{quote_ident(c)} as integer)" for c in q.of) or "0"
        musts = "".join(f" and f.{quote_ident(c)}" for c in q.and_all)
        cases.append(f"when ({count}) >= $q{i}_at_least{musts} then $q{i}_name")
    met = " + ".join(f"cast(f.{quote_ident(c)} as integer)" for c in rules.criteria)
    sql = f"""
with flags as (
    select ff.family_id, {", ".join(flags)}
    from family_flags as ff
    group by ff.family_id
),

final as (
    select f.*, cast({met} as integer) as criteria_met,
        case {" ".join(cases)} end as qualifies_by
    from flags as f
)

select * from final"""
    return sql, params


def evaluate(con: duckdb.DuckDBPyConnection, rules: RuleSet, as_of: date | str
             ) -> dict[str, int]:
    """Build ``criteria_evidence``, ``evidence_lines`` (read aloud), ``family_flags`` (long)
    and ``family_criteria`` (wide)."""
    evidence, params = evidence_sql(rules)
    counts = {"criteria_evidence": materialise(
        con, "criteria_evidence",
        f"select * from ({evidence}) order by family_id, criterion, person_id, rule, extract, "
        "source_row", params | {"as_of": str(as_of)})}
    sql, params = evidence_lines_sql(rules)
    counts["evidence_lines"] = materialise(con, "evidence_lines", sql, params)
    counts["family_flags"] = materialise(con, "family_flags", """
        select f.family_id, c.criterion,
            exists (select 1 from criteria_evidence as e
                    where e.family_id = f.family_id and e.criterion = c.criterion) as is_met
        from families as f
        cross join (select unnest($criteria) as criterion) as c
        order by f.family_id, c.criterion""", {"criteria": list(rules.criteria)})
    sql, params = family_criteria_sql(rules)
    counts["family_criteria"] = materialise(con, "family_criteria", sql, params)
    return counts
