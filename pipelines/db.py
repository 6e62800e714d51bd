"""DuckDB access and the SQL step runner.

Every transformation is one file under ``sql/`` holding one ``select``; the runner
materialises it as a table named after the file, in the ``work`` schema that each run
rebuilds. Values reach SQL only as DuckDB parameters (``$as_of``); identifiers only
from validated configuration, through :func:`quote_ident`.

In debug mode (``familyscreen screen --debug``) the runner also keeps each file's
intermediate steps (its CTEs) as tables of the ``debug`` schema, ``<table>__<cte>``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from pipelines import SQL_DIR
from schemas import EXTRACTS

log = logging.getLogger("familyscreen")

WORK = "work"
DEBUG = "debug"
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_SIZE = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")


class RunError(RuntimeError):
    """A run cannot go ahead: the message is one line an analyst can act on."""


def quote_ident(name: str) -> str:
    """Quote an identifier that came from validated configuration or the code itself."""
    if not _IDENT.match(name):
        raise ValueError(f"not a safe identifier: {name!r}")
    return f'"{name}"'


def quote_literal(name: str) -> str:
    """A validated identifier as a string literal, for view definitions (which take no
    parameters). Only names that pass the identifier pattern are accepted."""
    if not _IDENT.match(name):
        raise ValueError(f"not a safe identifier: {name!r}")
    return f"'{name}'"


MEMORY_LIMIT = "FAMILYSCREEN_MEMORY_LIMIT"


def checked_size(value: str, where: str) -> str:
    """``value`` when it is a size as DuckDB writes one (``8GB``, ``6GiB``, ``512MB``);
    otherwise a one-line error naming ``where`` it was given."""
    if not _SIZE.match(value.strip()):
        raise RunError(f"{where}: {value!r} is not a memory size; give one such as 8GB, "
                       "6GiB or 512MB")
    return value.strip()


def memory_limit() -> str:
    """The memory limit of every DuckDB connection of a run.

    ``FAMILYSCREEN_MEMORY_LIMIT`` (a DuckDB size such as ``8GB``; the command's
    ``--memory-limit`` sets it for its run) wins; otherwise 40% of this machine's memory,
    leaving room for Python (a batch of validation, the linkage model's tables in Arrow)
    and the operating system: a run's peak stays near half the machine. Work beyond the
    limit spills to the temporary directory instead of failing. A value that is not a
    size stops the run (a limit silently ignored is the one that decides a run).
    """
    if limit := os.environ.get(MEMORY_LIMIT, "").strip():
        return checked_size(limit, MEMORY_LIMIT)
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{max(1, int(total * 0.4 / 2**30))}GiB"


def configure(con: duckdb.DuckDBPyConnection, temp_directory: Path) -> None:
    """Memory limit and spill folder. DuckDB creates the folder only when it spills; it
    sits beside the database, in the output folder that runs create owner-only."""
    con.execute(f"set memory_limit = {quote_literal_value(memory_limit())}")
    con.execute(f"set temp_directory = {quote_literal_value(str(temp_directory))}")


def database_path(con: duckdb.DuckDBPyConnection) -> str | None:
    """The file of ``con``'s current database; None when it is in memory."""
    (path,) = con.execute("select path from duckdb_databases() "
                          "where database_name = current_database()").fetchone()
    return path or None


LENT_LIMIT = "256MiB"


def spill_folder(database: str, user: str) -> Path:
    """The spill folder of another connection working beside the run database (the
    linkage model's): never the run's own ``<database>.tmp``, whose files hold what the
    run spilled while lending its memory, and which DuckDB names alike in every folder
    (a second connection there overwrote them, then deleted them on closing)."""
    return Path(f"{database}.{user}.tmp")


@contextlib.contextmanager
def memory_lent(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Lend ``con``'s memory to another DuckDB in this process (the linkage model's) for
    the block: its limit drops to 256 MiB, which writes its cached and temporary data out,
    and is restored after. Two connections at the full limit would double the peak. An
    in-memory database (tests) has nowhere to write out to and keeps its limit."""
    if not database_path(con):
        yield
        return
    con.execute(f"set memory_limit = {quote_literal_value(LENT_LIMIT)}")
    try:
        yield
    finally:
        con.execute(f"set memory_limit = {quote_literal_value(memory_limit())}")


def quote_literal_value(value: str) -> str:
    """A string literal for a SET statement (which takes no parameters)."""
    return "'" + value.replace("'", "''") + "'"


def connect(db_path: Path | str, debug: bool = False, read_only: bool = False
            ) -> duckdb.DuckDBPyConnection:
    """Open the run database with the ``work`` schema first on the search path, the
    memory limit set and spilling to ``<database>.tmp`` beside it; with ``debug``, the
    step runner keeps every intermediate step (:func:`materialise_ctes`). Read-only, as
    an analyst would open the published database: the schema and macros are already
    there."""
    try:
        con = duckdb.connect(str(db_path), read_only=read_only)
    except duckdb.IOException as exc:
        first = str(exc).splitlines()[0]
        raise RunError(f"cannot open database {db_path}: {first}") from exc
    if str(db_path) != ":memory:":
        configure(con, Path(f"{db_path}.tmp"))
    if not read_only:
        con.execute(f"create schema if not exists {WORK}")
    con.execute(f"set search_path = '{WORK},main'")
    if not read_only:
        con.execute((SQL_DIR / "macros.sql").read_text())
    if debug:
        con.execute(f"create schema if not exists {DEBUG}")
        con.execute("set variable familyscreen_debug = true")
    return con


def debugging(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con`` was opened in debug mode."""
    (on,) = con.execute("select coalesce(getvariable('familyscreen_debug'), false)").fetchone()
    return bool(on)


def _parsed(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, Any]:
    return json.loads(con.execute("select json_serialize_sql($sql)", {"sql": sql}).fetchone()[0])


def ctes(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[str, str]]:
    """Each CTE of the statement ``sql`` with a query selecting it, ``select * from
    <cte>`` under the statement's CTEs, rebuilt from DuckDB's own parse of the statement
    (``json_serialize_sql``), not by editing the text. Empty for a statement DuckDB
    cannot serialise."""
    statement = _parsed(con, sql)
    if statement.get("error"):
        return []
    defined = statement["statements"][0]["node"].get("cte_map", {"map": []})
    queries = []
    for cte in [entry["key"] for entry in defined["map"]]:
        probe = _parsed(con, f"select * from {quote_ident(cte)}")
        probe["statements"][0]["node"]["cte_map"] = defined
        (query,) = con.execute("select json_deserialize_sql($json)",
                               {"json": json.dumps(probe)}).fetchone()
        queries.append((cte, query))
    return queries


def materialise_ctes(con: duckdb.DuckDBPyConnection, name: str, sql: str,
                     params: Mapping[str, Any] | None = None) -> list[str]:
    """Debug mode: every CTE of ``sql`` (one step's file) as the table
    ``debug.<name>__<cte>``, as splink's debug mode materialises each of its steps, so
    that an analyst can see at which step a row appeared or went. Returns the tables; a
    statement DuckDB cannot take apart is logged and kept whole only (debugging never
    stops a run)."""
    made = []
    for cte, query in ctes(con, sql):
        table = f"{name}__{cte}"
        con.execute(f"create or replace table {DEBUG}.{quote_ident(table)} as\n{query}",
                    bind(query, params or {}))
        made.append(table)
    if not made:
        log.warning("debug: %s kept whole, not step by step", name)
    return made


def bind(sql: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The subset of ``params`` that ``sql`` names (DuckDB rejects unused ones)."""
    wanted = set(_PARAM.findall(sql))
    missing = wanted - set(params)
    if missing:
        raise KeyError(f"SQL needs parameters {sorted(missing)}")
    return {k: params[k] for k in wanted}


def materialise(
    con: duckdb.DuckDBPyConnection, name: str, sql: str, params: Mapping[str, Any] | None = None
) -> int:
    """Create or replace ``work.<name>`` from one ``select``; return its row count."""
    started = time.perf_counter()
    target = f"{WORK}.{quote_ident(name)}"
    con.execute(f"create or replace table {target} as\n{sql}", bind(sql, params or {}))
    if debugging(con):
        materialise_ctes(con, name, sql, params)
    (rows,) = con.execute(f"select count(*) from {target}").fetchone()
    log.debug("table %s: %d rows in %.2fs", name, rows, time.perf_counter() - started)
    return rows


def step_sql(step: str) -> str:
    """The SQL of ``sql/<step>.sql``. A step that unions every extract of a kind loops over
    the extracts' declarations with Jinja (``{% for x in person_extracts %}``), as a dbt
    model loops over its sources: names from the declarations go in, never a value (those
    stay DuckDB parameters)."""
    text = (SQL_DIR / f"{step}.sql").read_text()
    if "{%" not in text and "{{" not in text:
        return text
    people = [spec for spec in EXTRACTS.values() if spec.person is not None]
    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(text).render(
        person_extracts=people,
        person_keys=[(spec.name, key) for spec in people for key in spec.person.keys])


def run_steps(
    con: duckdb.DuckDBPyConnection, steps: Iterable[str], params: Mapping[str, Any] | None = None
) -> dict[str, int]:
    """Run ``sql/<step>.sql`` files in order, each into the table named after the file."""
    counts = {}
    for step in steps:
        counts[Path(step).name] = materialise(con, Path(step).name, step_sql(step), params)
    return counts


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All of the block's statements or none of them."""
    con.execute("begin transaction")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
