"""Cohort: qualifying families and their members, and publishing a run.

``cohort`` and ``cohort_members`` are built in the ``work`` schema. Publishing appends
every contract table to its ``*_history`` table with the run id, in one transaction,
and refreshes the analysts' views; until then the views show the previous run.
"""

from __future__ import annotations

import duckdb

from pipelines import SQL_DIR, interface
from pipelines.db import WORK, materialise, quote_ident, quote_literal, run_steps, transaction
from pipelines.rule_set import RuleSet

# work table → history table (columns matched by name; run_id added)
PUBLISHED = {
    "rejects": "rejects_history",
    "value_warnings": "value_warnings_history",
    "person_records": "person_records_history",
    "person_keys": "person_keys_history",
    "persons": "persons_history",
    "families": "families_history",
    "family_members": "family_members_history",
    "criteria_evidence": "criteria_evidence_history",
    "family_flags": "family_flags_history",
    "cohort": "cohort_history",
    "link_model": "link_model_history",
    "person_record_hashes": "person_record_hashes_history",
    "person_lineage": "person_lineage_history",
    "family_lineage": "family_lineage_history",
}
# published for the next run to follow people by, not for analysts: no view
UNVIEWED = {"cohort", "person_record_hashes"}


def build_cohort(con: duckdb.DuckDBPyConnection, rules: RuleSet, compare_run_id: str | None
                 ) -> dict[str, int]:
    """``cohort`` (qualifying families, ``status`` against ``compare_run_id``),
    ``cohort_members`` with per-member flags and whether each is new to the family
    against the same run, and ``review_priorities`` (what each pair
    in the review queue could change in this cohort)."""
    counts = run_steps(con, ["cohort/cohort", "cohort/members_new_to_family"],
                       {"compare_run_id": compare_run_id})
    base = (SQL_DIR / "cohort" / "cohort_members.sql").read_text()
    params = {}
    flags = []
    for i, name in enumerate(rules.criteria):
        params[f"k{i}"] = name
        flags.append(f"exists (select 1 from criteria_evidence as e where e.person_id = "
                     f"cm.person_id and e.criterion = $k{i}) as {quote_ident(name)}")
    sql = f"select cm.* exclude (evidence), {', '.join(flags)}, cm.evidence from ({base}) as cm"
    counts["cohort_members"] = materialise(con, "cohort_members", sql, params)
    counts |= run_steps(con, ["cohort/review_priorities"])
    return counts


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the history tables if this is a new database, and the analysts' views
    (each contract name shows its history table's rows of the latest run, as
    sql/interface.yaml lists its columns; the cohort view is rebuilt at publish, with the
    run's criteria as columns), the pseudonymised and named views, and their comments."""
    con.execute((SQL_DIR / "schema.sql").read_text())
    interface.create_views(con)
    con.execute((SQL_DIR / "pseudo_views.sql").read_text())
    con.execute((SQL_DIR / "named_views.sql").read_text())
    interface.apply_comments(con)


def cohort_view_sql(rules: RuleSet) -> str:
    """The ``cohort`` view: the latest run's qualifying families with a flag column per
    criterion of that run's rule set, ``meets_<criterion>`` (a criterion's own name may be
    a keyword: ``work``). A view takes no parameters; names are validated identifiers,
    quoted by the one helper."""
    flags = ", ".join(
        f"coalesce(bool_or(ff.is_met) filter (where ff.criterion = {quote_literal(c)}), false) "
        f"as {quote_ident('meets_' + c)}" for c in rules.criteria)
    return f"""create or replace view main.cohort as
        select c.run_id, c.family_id, f.uprn, f.address, f.postcode, f.ward, f.lsoa,
            f.imd_decile, f.members, f.children, f.adults, {flags},
            c.criteria_met, c.qualifies_by, c.status, c.evidence
        from main.cohort_history as c
        join main.families_history as f using (run_id, family_id)
        join main.family_flags_history as ff using (run_id, family_id)
        where c.run_id = (select run_id from main.latest_screen_run)
        group by all"""


def publish(con: duckdb.DuckDBPyConnection, run_id: str, rules: RuleSet, counts: dict[str, int]
            ) -> None:
    """Append this run to the history tables, mark it succeeded and refresh the views,
    all or nothing."""
    with transaction(con):
        for work, history in PUBLISHED.items():
            columns = [c for (c,) in con.execute(
                "select column_name from duckdb_columns() where schema_name = 'main' "
                "and table_name = $t and column_name <> 'run_id' order by column_index",
                {"t": history}).fetchall()]
            listed = ", ".join(quote_ident(c) for c in columns)
            con.execute(f"insert into main.{quote_ident(history)} (run_id, {listed}) "
                        f"select $run_id, {listed} from {WORK}.{quote_ident(work)}",
                        {"run_id": run_id})
        con.execute("""update main.runs set status = 'succeeded', finished_at = now(),
                n_rows_read = $read, n_rows_staged = $staged, n_rows_rejected = $rejected,
                n_persons = $persons, n_families = $families, n_cohort_families = $cohort
            where run_id = $run_id""",
                    {"run_id": run_id, "read": counts["rows_read"],
                     "staged": counts["rows_staged"], "rejected": counts["rows_rejected"],
                     "persons": counts["persons"], "families": counts["families"],
                     "cohort": counts["cohort"]})
        con.execute(cohort_view_sql(rules))
        interface.apply_comments(con, {name: c.label for name, c in rules.criteria.items()})
