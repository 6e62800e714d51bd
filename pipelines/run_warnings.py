"""Warnings: what lets a run finish but must not pass unnoticed.

Grain: one warning per extract file given with no data rows, per extract with more than
the rule set's share of its rows rejected (``warnings.max_rejected_share``, 5% unless
set), and one for a claims run that has no attached family to evaluate. Each is
``{"code", "file", "message"}``, the message one line naming the file and what to do.
They go into the manifest (``warnings``), the report's context, the command's summary and
``familyscreen validate``; ``--strict`` fails the run on any of them, before its outputs
are written. Counts and reasons only, never a value from a row.
"""

from __future__ import annotations

from fractions import Fraction

import duckdb

from pipelines.db import WORK

TABLE = f"{WORK}.run_warnings"
NO_ROWS = "no_rows"
REJECTED_SHARE = "rejected_share"
NO_ATTACHMENTS = "no_attachments"


def warning(code: str, file: str | None, message: str) -> dict[str, str | None]:
    return {"code": code, "file": file, "message": message}


def top_reasons(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each extract's most frequent reason for rejecting a row: ``column: problem``."""
    return dict(con.execute(f"""
        select extract, arg_max(coalesce("column", '(row)') || ': ' || problem, n)
        from (select extract, "column", problem, count(*) as n from {WORK}.rejects
              group by all)
        group by extract""").fetchall())


def input_warnings(inputs: list[dict], reasons: dict[str, str], max_rejected_share: float,
                   rejects_file: str) -> list[dict]:
    """Warnings on the extract files given: ``inputs`` as :func:`pipelines.runs.
    input_summary` gives them (``extract``, ``file``, ``rows_read``, ``rows_rejected``).

    A file with no data rows screens nobody from that agency; a share of rejected rows
    above ``max_rejected_share`` (strictly more) means a column the rules read is
    unusable, as when every ``claim_start`` arrives in a format no parser reads."""
    found = []
    share = Fraction(str(max_rejected_share))  # exactly: 5 of 100 at 0.05 is not above it
    for item in inputs:
        if item["file"] is None:
            continue  # an optional extract not supplied
        read, rejected = item["rows_read"], item["rows_rejected"]
        if read == 0:
            found.append(warning(NO_ROWS, item["file"], (
                f"{item['file']} has a header but no data rows; check the export (was it "
                "cut short, or for the wrong period?) and run again")))
        elif rejected > share * read:
            found.append(warning(REJECTED_SHARE, item["file"], (
                f"{item['file']}: {rejected} of {read} rows rejected "
                f"({rejected / read:.1%}, more than {float(share * 100):g}%); most often "
                f"{reasons.get(item['extract'], 'see the rejects')}; fix the export, see "
                f"{rejects_file}")))
    return found


def claims_warnings(con: duckdb.DuckDBPyConnection, attachments_file: str | None
                    ) -> list[dict]:
    """A claims run with no attached family it can evaluate: no attachments extract, an
    empty one, or attached families no screening run in this database identified."""
    (attached,) = con.execute(f"select count(*) from {WORK}.stg_attachments").fetchone()
    (identified,) = con.execute(f"select count(*) from {WORK}.pbr_attachments "
                                "where identification_run_id is not null").fetchone()
    if identified:
        return []
    if attachments_file is None:
        message = ("no attachments extract: a claims run evaluates the families attached "
                   "to the programme; add attachments.csv to the extracts folder")
    elif not attached:
        message = (f"{attachments_file}: no attached families to evaluate; add the "
                   "families attached to the programme")
    else:
        message = (f"{attachments_file}: none of its {attached} attached families is in a "
                   "cohort of a screening run in this database; give the database of "
                   "the screening runs (--db)")
    return [warning(NO_ATTACHMENTS, attachments_file, message)]


def store(con: duckdb.DuckDBPyConnection, found: list[dict]) -> None:
    """Keep the run's warnings in ``work.run_warnings`` for its outputs step."""
    con.execute(f"create or replace table {TABLE} (code varchar, file varchar, "
                "message varchar)")
    if found:
        con.executemany(f"insert into {TABLE} values (?, ?, ?)",
                        [[w["code"], w["file"], w["message"]] for w in found])


def recorded(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The warnings :func:`store` kept, in the order found."""
    rows = con.execute(f"select code, file, message from {TABLE} order by rowid").fetchall()
    return [warning(*row) for row in rows]


def strict_failure(found: list[dict]) -> str:
    """The one line of a run that warned under ``--strict``."""
    more = f" (and {len(found) - 1} more warnings)" if len(found) > 1 else ""
    return (f"{found[0]['message']}{more}; --strict stops the run on a warning, earlier "
            "outputs are as they were")
