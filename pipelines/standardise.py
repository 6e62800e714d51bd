"""Standardise: staged person records → ``std_person_records``, keys and addresses.

Reference tables come first: English name variants (the ``nicknames`` package's list,
both directions), address words (``data/reference/address_words.csv``) and the school
term calendar of the rule set (``ref_terms``, one row per academic year and term).
"""

from __future__ import annotations

import duckdb
import nicknames

from pipelines import ROOT
from pipelines.db import WORK, run_steps
from pipelines.rule_set import RuleSet

STEPS = [
    "standardise/std_person_records",
    "standardise/std_person_keys",
    "standardise/std_addresses",
]


def load_name_variants(con: duckdb.DuckDBPyConnection) -> None:
    """``ref_name_variants``: English forenames and their nicknames, both directions."""
    with nicknames.with_names_csv_path() as path:
        con.execute(
            f"""create or replace table {WORK}.ref_name_variants as
            select distinct name, variant from (
                select upper(name1) as name, upper(name2) as variant
                from read_csv($p, header = true, all_varchar = true)
                union all
                select upper(name2), upper(name1)
                from read_csv($p, header = true, all_varchar = true)
            )""",
            {"p": str(path)},
        )


def load_reference(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> None:
    """Create the reference tables the standardisation and criteria SQL read."""
    load_name_variants(con)
    con.execute(
        f"""create or replace table {WORK}.ref_address_words as
        select word, standard, cast(is_street_type as boolean) as is_street_type
        from read_csv($p, header = true, all_varchar = true)""",
        {"p": str(ROOT / "data" / "reference" / "address_words.csv")},
    )
    rules.calendar.create_terms_table(con)


def standardise(con: duckdb.DuckDBPyConnection, rules: RuleSet, as_of: str) -> dict[str, int]:
    """Build the std_ tables; returns row counts per table."""
    load_reference(con, rules)
    return run_steps(con, STEPS, {"as_of": as_of})
