"""The figures of the run report: counts and shares only, never a person's details."""

from __future__ import annotations

from typing import Any

import duckdb

from pipelines import lineage
from pipelines.criteria import RuleSet
from pipelines.db import WORK, quote_ident, quote_literal


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[dict]:
    result = con.execute(sql, params or {})
    names = [d[0] for d in result.description]
    return [dict(zip(names, r, strict=True)) for r in result.fetchall()]


def report_figures(con: duckdb.DuckDBPyConnection, rules: RuleSet,
                   compare_run_id: str | None) -> dict[str, Any]:
    """Everything report.html shows besides the run header and the inputs."""
    flags = [quote_ident(c) for c in rules.criteria]
    combination = " || ' + ' || ".join(
        f"case when {f} then {quote_literal(c)} else '' end"
        for f, c in zip(flags, rules.criteria, strict=True))
    return {
        "rejects_by_reason": rows(con, f"""
            select extract, "column", problem, count(*) as n from {WORK}.rejects
            group by all order by extract, n desc, "column", problem"""),
        "nulled_by_reason": rows(con, f"""
            select extract, "column", problem, count(*) as n from {WORK}.value_warnings
            group by all order by extract, n desc, "column", problem"""),
        "linkage": rows(con, f"""
            select extract, match_method, count(*) as n from {WORK}.person_records
            group by all order by extract, match_method"""),
        "linkage_totals": rows(con, f"""
            select
                (select count(*) from {WORK}.person_records) as n_records,
                (select count(*) from {WORK}.persons) as n_persons,
                (select count(*) from {WORK}.persons where household_key is null)
                    as n_persons_without_address,
                (select count(*) from {WORK}.persons
                 where is_own_household(household_key))
                    as n_persons_on_their_own,
                (select count(*) from {WORK}.persons
                 where contains(upn, ';') or contains(nino, ';')) as n_persons_to_review
        """)[0],
        "addresses": rows(con, f"""
            select resolution, count(*) as n_records, count(distinct written) as n_addresses
            from (
                select coalesce(m.uprn_method, 'unresolved: ' || m.unresolved_reason)
                        as resolution,
                    m.uprn is null as is_unresolved, (r.address, r.postcode) as written
                from {WORK}.std_person_records as r
                join {WORK}.address_matches as m
                    on m.address is not distinct from r.address
                    and m.postcode is not distinct from r.postcode
            )
            group by resolution, is_unresolved
            order by is_unresolved, n_records desc, resolution"""),
        "link_model": rows(con, f"""
            select m.*,
                (select count(*) from {WORK}.link_candidates where band = 'linked') as n_linked,
                (select count(*) from {WORK}.review_queue) as n_review,
                (select count(*) from {WORK}.link_candidates where band = 'review')
                    + (select count(*) from {WORK}.link_edges_split_out)
                    - (select count(*) from {WORK}.review_queue) as n_held_back,
                (select count(*) from {WORK}.link_candidates where band = 'confirmed')
                    as n_confirmed,
                (select count(*) from {WORK}.link_candidates where band = 'rejected')
                    as n_rejected,
                (select count(*) from {WORK}.link_splits) as n_splits
            from {WORK}.link_model as m""")[0],
        "review_priorities": rows(con, f"""
            select priority, bears_on, count(*) as n_pairs
            from {WORK}.review_priorities group by all order by priority"""),
        "uncertain_pairs": rows(con, f"""
            select q.profile_key_l, q.profile_key_r, p.bears_on, q.reason,
                q.match_probability, q.mw_forename, q.mw_surname, q.mw_dob, q.mw_location
            from {WORK}.review_queue as q
            join {WORK}.review_priorities as p using (record_id_l, record_id_r)
            order by p.priority, q.match_probability desc, q.profile_key_l, q.profile_key_r
            limit 10"""),
        "largest_clusters": rows(con, f"""
            select pr.person_id, count(*) as n_records,
                count(distinct pr.extract) as n_extracts,
                count(distinct r.date_of_birth) as n_dates_of_birth,
                count(distinct r.surname_std) as n_surnames,
                string_agg(distinct pr.match_method, ', ' order by pr.match_method) as methods
            from (  -- the five people with most records, then their details
                select person_id from {WORK}.person_records
                group by person_id order by count(*) desc, person_id limit 5
            ) as top
            join {WORK}.person_records as pr using (person_id)
            join {WORK}.std_person_records as r using (record_id)
            group by pr.person_id
            order by n_records desc, pr.person_id"""),
        "households": rows(con, f"""
            select count(*) as n_families, sum(members) as n_members,
                sum(children) as n_children, sum(adults) as n_adults
            from {WORK}.families""")[0],
        "criteria": [
            {"name": c, "label": spec.label, "n": n}
            for (c, spec), n in zip(rules.criteria.items(), con.execute(
                "select " + ", ".join(f"count(*) filter (where {f})" for f in flags)
                + f" from {WORK}.family_criteria").fetchone(), strict=True)
        ],
        "combinations": rows(con, f"""
            select regexp_replace(regexp_replace({combination}, '( \\+ )+', ' + ', 'g'),
                    '^ \\+ | \\+ $', '', 'g') as combination,
                criteria_met, count(*) as n, count(*) filter (where qualifies_by is not null)
                    as n_qualifying
            from {WORK}.family_criteria where criteria_met > 0
            group by all order by criteria_met desc, n desc, combination"""),
        "qualifying": rows(con, f"""
            select qualifies_by, count(*) as n from {WORK}.cohort group by all order by n desc"""),
        "by_ward": rows(con, f"""
            select coalesce(ward, '(no ward: gazetteer not matched)') as ward, count(*) as n
            from {WORK}.cohort group by all order by n desc, ward"""),
        "by_imd": rows(con, f"""
            select imd_decile, count(*) as n from {WORK}.cohort where imd_decile is not null
            group by all order by imd_decile"""),
        "claims": claims_figures(con, "main.pbr_candidates"),
        "ids": lineage.id_changes(con),
        "changes": rows(con, f"""
            select
                count(*) filter (where status = 'new') as n_new,
                count(*) filter (where status = 'continuing') as n_continuing,
                (select count(*) from main.cohort_history as h
                 where h.run_id = $previous and h.family_id not in
                    (select family_id from {WORK}.cohort)) as n_left
            from {WORK}.cohort""", {"previous": compare_run_id})[0],
    }


def claims_figures(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, Any]:
    """Counts by result and status, the value claimable, and the families closest to a
    result (those short of it by one component or employed but not yet long enough)."""
    return {
        "by_status": rows(con, f"""
            select result, status, count(*) as n, sum(value) as value from {table}
            group by all order by result, status"""),
        "value": con.execute(f"select coalesce(sum(value), 0) from {table}").fetchone()[0],
        "closest": rows(con, f"""
            select family_id, result, missing from {table}
            where status = 'not_yet' and missing is not null
                and (result <> 'crime_asb_education' or not contains(missing, ' | '))
            order by result, family_id limit 25"""),
    }
