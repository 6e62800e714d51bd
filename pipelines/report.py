"""The board report (``report.html``): its figures, counts and rates only, never a
person's details, and its charts.

Grain: one report per screening run, brought up to date by each claims run. A screening
run counts its figures (``sql/report/``: rates by ward and deprivation decile against the
households screened, the hotspot map's cells, the criteria funnel, the changes since the
previous run) and keeps them, as JSON, in ``main.report_history``; a claims run renders
the latest screening run's report again with its own claims, so the report left after
``screen`` then ``claims`` reflects both. Nothing scored against a generator's truth is
in it (that is :mod:`synthetic.quality`, for the tests and the benchmark).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from pipelines import charts, exports, lineage
from pipelines.db import WORK, quote_ident, quote_literal, run_steps
from pipelines.rule_set import RuleSet

STEPS = ["report/report_changes", "report/report_wards", "report/report_deciles",
         "report/report_hotspots", "report/report_funnel"]
# A map cell shows its counts only from this many households screened (fewer: grey, no
# figure), so no cell can point to one household or family.
MIN_HOUSEHOLDS = 10
# The map's cells: about this many across the area's longer side (at least 100 m).
CELLS_ACROSS = 40
DECILE_ENDS = {1: " (most deprived)", 10: " (least deprived)"}
CLAIM_STATUSES = {"claimable": "#00703c", "already claimed": "#505a5f",
                  "not yet": "#b1b4b6", "not applicable": "#f3f2f1"}


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[dict]:
    result = con.execute(sql, params or {})
    names = [d[0] for d in result.description]
    return [dict(zip(names, r, strict=True)) for r in result.fetchall()]


def report_figures(con: duckdb.DuckDBPyConnection, rules: RuleSet,
                   previous_run_id: str | None) -> dict[str, Any]:
    """Everything report.html shows besides the run header and the inputs; "new" and
    "no longer qualifying" are against ``previous_run_id``."""
    run_steps(con, STEPS, {"previous_run_id": previous_run_id,
                           "min_households": MIN_HOUSEHOLDS, "cells_across": CELLS_ACROSS})
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
        "wards": rows(con, f"select * exclude (is_unmatched) from {WORK}.report_wards"),
        "deciles": rows(con, f"select * from {WORK}.report_deciles"),
        "n_without_decile": con.execute(
            f"select count(*) from {WORK}.families where imd_decile is null").fetchone()[0],
        "hotspots": rows(con, f"select * from {WORK}.report_hotspots"),
        "n_located": con.execute(f"""select count(*) from {WORK}.families
            where uprn in (select uprn from {WORK}.stg_gazetteer where easting is not null)
            """).fetchone()[0],
        "min_households": MIN_HOUSEHOLDS,
        "funnel": rows(con, f"select label, households from {WORK}.report_funnel"),
        "claims": latest_claims(con),
        "changes": rows(con, f"select * from {WORK}.report_changes")[0],
        "ids": lineage.id_changes(con),
    }


def latest_claims(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The latest claims evaluation published in this database, with its run."""
    run = rows(con, "select run_id, cast(as_of_date as varchar) as as_of "
                    "from main.latest_claims_run")
    return {"run": run[0] if run else None, **claims_figures(
        con, "(select * from main.pbr_candidates_history where "
             "run_id = (select run_id from main.latest_claims_run))")}


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


def plain(value: Any) -> Any:
    """A value JSON cannot hold as it is, as one it can (sums come back as decimals)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in the report's figures")


def context(run: dict[str, str], inputs: list[dict], figures: dict[str, Any],
            warnings: list[dict], rules: RuleSet) -> dict[str, Any]:
    """What ``report.html`` is rendered from, as JSON would give it back: the same
    report whether rendered now or again by a claims run."""
    return json.loads(json.dumps({
        "run": run, "inputs": inputs, "figures": figures, "warnings": warnings,
        "claims_warnings": [], "accept_probability": rules.linkage.accept_probability,
    }, default=plain))


def save(con: duckdb.DuckDBPyConnection, run_id: str, report: dict[str, Any]) -> None:
    """Keep a screening run's report context for claims runs to render again."""
    con.execute("insert into main.report_history (run_id, context) values ($r, $c)",
                {"r": run_id, "c": json.dumps(report)})


def latest(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The report context of the latest screening run (None before any run kept one)."""
    found = con.execute("""select context from main.report_history
        where run_id = (select run_id from main.latest_screen_run)""").fetchall()
    return json.loads(found[0][0]) if found else None


def with_claims(report: dict[str, Any], run: dict[str, str], claims: dict[str, Any],
                warnings: list[dict]) -> dict[str, Any]:
    """A screening run's report context with a claims run's figures and warnings."""
    figures = {**report["figures"], "claims": json.loads(json.dumps(
        {"run": {"run_id": run["run_id"], "as_of": run["as_of"]}, **claims}, default=plain))}
    return {**report, "figures": figures, "claims_warnings": warnings}


def drawings(figures: dict[str, Any]) -> dict[str, str | None]:
    """The report's charts as inline SVG (None where there is nothing to draw)."""
    wards, deciles, cells = figures["wards"], figures["deciles"], figures["hotspots"]
    funnel = figures["funnel"]
    results = sorted({r["result"] for r in figures["claims"]["by_status"]})
    by = {(r["result"], r["status"].replace("_", " ")): r["n"]
          for r in figures["claims"]["by_status"]}
    return {
        "funnel": charts.funnel([s["label"] for s in funnel], [s["households"] for s in funnel],
                                "Criteria funnel"),
        "criteria": charts.bars([c["label"] for c in figures["criteria"]],
                                [c["n"] for c in figures["criteria"]],
                                [f"{c['n']:,}" for c in figures["criteria"]],
                                "Families meeting each criterion", "Households screened"),
        "wards": charts.rate_bars([w["ward"] for w in wards], [w["families"] for w in wards],
                                  [w["households"] for w in wards], "Cohort by ward")
        if wards else None,
        "deciles": charts.rate_bars(
            [f"{d['imd_decile']}{DECILE_ENDS.get(d['imd_decile'], '')}" for d in deciles],
            [d["families"] for d in deciles], [d["households"] for d in deciles],
            "Cohort by deprivation decile")
        if any(d["households"] for d in deciles) else None,
        "map": charts.hotspot_map(cells, "Hotspot map") if cells else None,
        "claims": charts.stacked_bars(
            [r.replace("_", " ") for r in results],
            {s: [by.get((r, s), 0) for r in results] for s in CLAIM_STATUSES},
            CLAIM_STATUSES, "Payment-by-results claims", "Families")
        if results else None,
    }


def write(path: Path, report: dict[str, Any]) -> None:
    """``report.html`` from a report context, its charts drawn."""
    exports.render(path, "report.html", {**report, "charts": drawings(report["figures"])})
