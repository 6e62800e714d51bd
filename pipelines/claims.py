"""Claims: attached families → payment-by-results candidates with their evidence.

Grain of ``pbr_candidates``: one row per attached family and result. Families are taken
as they were identified (their screening run on or before attachment); events come from
this run's extracts, linked to the members' ids followed through the lineage since (an id
merged into an older one is followed to it), and a result claimed under any id the
family's lineage joins it to counts as claimed. Every threshold, window, code list and
amount is in the rule set's ``payment_by_results`` section.
"""

from __future__ import annotations

from typing import Any

import duckdb

from pipelines import exports, report, run_warnings, runs
from pipelines.db import WORK, RunError, quote_ident, run_steps, transaction
from pipelines.publish import staged_outputs
from pipelines.rule_set import RuleSet
from pipelines.settings import PaymentByResults

STEPS = ["claims/pbr_attachments", "claims/pbr_member_ids", "claims/pbr_members",
         "claims/pbr_claimed", "claims/pbr_problems",
         "claims/pbr_education", "claims/pbr_events", "claims/pbr_employment",
         "claims/pbr_progress", "claims/pbr_components", "claims/pbr_candidates"]
RESULTS = ("crime_asb_education", "continuous_employment", "progress_to_work")
COMPONENTS = ("education", "asb", "youth_offending")


def parameters(pbr: PaymentByResults, as_of: str) -> dict[str, Any]:
    """The rule set's payment-by-results section as SQL parameters."""
    cae, ce, ptw = pbr.crime_asb_education, pbr.continuous_employment, pbr.progress_to_work
    parts = [cae.education, cae.asb, cae.youth_offending]
    return {
        "as_of": as_of,
        "component_names": list(COMPONENTS),
        "component_criteria": [p.applies_if.criteria for p in parts],
        "component_rules": [p.applies_if.rules for p in parts],
        "edu_terms": cae.education.terms,
        "edu_categories": cae.education.suspension_categories,
        "edu_max_suspensions": cae.education.max_suspensions,
        "edu_pct": cae.education.below_percent,
        "asb_types": cae.asb.record_types,
        "asb_months": cae.asb.months,
        "asb_reduction": cae.asb.min_reduction_percent,
        "offence_codes": cae.youth_offending.codes,
        "offence_max_age": cae.youth_offending.max_age_at_offence,
        "offence_months": cae.youth_offending.months,
        "offence_reduction": cae.youth_offending.min_reduction_percent,
        "ce_benefits": ce.benefits,
        "ce_kinds": ce.kinds,
        "ce_weeks": ce.weeks,
        "ce_special_benefits": list(ce.weeks_if_claimed),
        "ce_special_weeks": list(ce.weeks_if_claimed.values()),
        "ptw_kinds": ptw.kinds,
        "ptw_months": ptw.months,
        "result_names": list(RESULTS),
        "result_amounts": [cae.amount, ce.amount, ptw.amount],
    }


def evaluate(con: duckdb.DuckDBPyConnection, rules: RuleSet, as_of: str) -> dict[str, int]:
    """Build the ``pbr_*`` tables of this run."""
    if rules.payment_by_results is None:
        raise RunError(f"rule set {rules.name} has no payment_by_results section")
    return run_steps(con, STEPS, parameters(rules.payment_by_results, as_of))


def evidence_pages(con: duckdb.DuckDBPyConnection, folder, run: runs.Run) -> int:
    """One page per family with a claimable result: every figure with its source rows."""
    families = [f for (f,) in con.execute(
        f"select distinct family_id from {WORK}.pbr_candidates where status = 'claimable' "
        "order by family_id").fetchall()]
    if not families:
        return 0
    pack = folder / "evidence"
    pack.mkdir(mode=0o700)
    for family_id in families:
        def rows(table: str, fid: str = family_id) -> list[dict]:
            return report.rows(con, f"select * from {WORK}.{quote_ident(table)} "
                                    "where family_id = $f", {"f": fid})
        exports.render(pack / f"{family_id}.html", "evidence.html", {
            "run": {"run_id": run.run_id, "as_of": run.as_of.isoformat()},
            "family_id": family_id,
            "attachment": rows("pbr_attachments")[0],
            "candidates": rows("pbr_candidates"),
            "components": rows("pbr_components"),
            "education": rows("pbr_education"),
            "events": rows("pbr_events"),
            "employment": rows("pbr_employment"),
            "progress": rows("pbr_progress"),
        })
    return len(families)


def write_outputs(con: duckdb.DuckDBPyConnection, run: runs.Run, rules: RuleSet
                  ) -> dict[str, int]:
    """``pbr_candidates.csv``, ``claims_rejects.csv`` (the rows of this run's extracts
    set aside, as ``rejects.csv`` of a screening), the evidence pack,
    ``claims_report.html`` and ``claims_manifest.json``, and the latest screening run's
    ``report.html`` again with these claims; then publish the candidates and mark the run
    succeeded."""
    inputs = runs.input_summary(con)
    counts = dict(con.execute(f"""select status, count(*) from {WORK}.pbr_candidates
        group by status""").fetchall())
    counts = {s: counts.get(s, 0) for s in ("claimable", "not_yet", "already_claimed",
                                            "not_applicable")}
    warnings = run_warnings.recorded(con)
    counts["warnings"] = len(warnings)
    with staged_outputs(run.out, run.run_id) as folder:
        exports.write_csvs(con, rules, folder, "claims")
        counts["evidence_pages"] = evidence_pages(con, folder, run)
        header = runs.run_header(run, rules)
        claims = report.claims_figures(con, f"{WORK}.pbr_candidates")
        claims_manifest = runs.manifest(run, rules, inputs, counts, warnings)
        exports.render(folder / "claims_report.html", "claims_report.html", {
            "run": header, "warnings": warnings, "inputs": inputs, "claims": claims,
        })
        board = report.latest(con)
        if board is not None:
            report.write(folder / "report.html",
                         report.with_claims(board, header, claims, warnings))
        exports.write_manifest(folder, "claims_manifest.json", claims_manifest)
        publish(con, run, runs.input_totals(inputs))
    return counts


def publish(con: duckdb.DuckDBPyConnection, run: runs.Run, totals: dict[str, int]) -> None:
    """Append the candidates to their history and mark the run succeeded, together."""
    with transaction(con):
        con.execute(f"""insert into main.pbr_candidates_history
            select $run_id, family_id, result, status, window_start, window_end,
                attached_date, evidence, missing, value, identification_run_id
            from {WORK}.pbr_candidates""", {"run_id": run.run_id})
        con.execute("""update main.runs set status = 'succeeded', finished_at = now(),
                n_rows_read = $read, n_rows_staged = $staged, n_rows_rejected = $rejected
            where run_id = $r""", {"r": run.run_id, "read": totals["rows_read"],
                                   "staged": totals["rows_staged"],
                                   "rejected": totals["rows_rejected"]})
