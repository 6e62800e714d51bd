"""The analysts' interface of the run database, from one description: ``sql/interface.yaml``.

Grain: one entry per table or view an analyst queries, each column described. From it
come the views over the history tables (their columns, renamed where a stored name is a
DuckDB keyword), a ``COMMENT ON`` for every table, view and column (applied at every run,
since ``create or replace`` drops a view's comments), and the database section of
``docs/outputs.md`` (``python -m pipelines.interface`` rewrites it; a test compares).
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipelines import ROOT, SQL_DIR
from pipelines.db import quote_ident, quote_literal_value

INTERFACE_FILE = SQL_DIR / "interface.yaml"
DOCS_FILE = ROOT / "docs" / "outputs.md"
BEGIN = "<!-- database: generated from sql/interface.yaml by `python -m pipelines.interface` -->"
END = "<!-- end of database -->"
PER_CRITERION = "{criterion}"  # in a column name: one column per criterion of the rule set

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\{criterion\})?$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(Strict):
    description: str = Field(min_length=1)
    stored_as: str | None = None  # the history table's name for it, where the view renames
    # a keyword-named column the specification's contract names (/work/shared/spec is the
    # project's contract): kept beside its keyword-free twin, so queries written to the
    # contract still run; never a new column of this kind
    contract_name: bool = False


class DbObject(Strict):
    """A table or view: its grain, its columns in order, and for a view over a history
    table that table and which run it shows (the latest screening or claims run)."""

    kind: Literal["table", "view"]
    grain: str = Field(min_length=1)
    history: str | None = None
    run: Literal["screen", "claims"] = "screen"
    columns: dict[Name, Column]

    @field_validator("columns", mode="before")
    @classmethod
    def _short_form(cls, columns: dict[str, Any]) -> dict[str, Any]:
        return {k: {"description": v} if isinstance(v, str) else v for k, v in columns.items()}


class Interface(Strict):
    objects: dict[str, DbObject]

    def all_objects(self) -> dict[str, DbObject]:
        """Every object, with the history table behind each view that has one."""
        out: dict[str, DbObject] = {}
        for name, obj in self.objects.items():
            out[name] = obj
            if obj.history:
                out[obj.history] = DbObject(
                    kind="table",
                    grain=f"every run's rows of `{name}` (the store behind the view, which "
                          f"shows one run): {obj.grain}",
                    columns={c.stored_as or n: Column(description=c.description)
                             for n, c in obj.columns.items() if not c.contract_name})
        return out


@functools.cache
def load(path: Path = INTERFACE_FILE) -> Interface:
    """The interface description, validated (an unknown key names itself)."""
    return Interface.model_validate(yaml.safe_load(path.read_text()))


def qualified(name: str) -> str:
    """``main.x`` for a bare name, ``work.x`` as written; each part quoted."""
    schema, _, table = name.rpartition(".")
    return f"{quote_ident(schema or 'main')}.{quote_ident(table)}"


def view_sql(name: str, obj: DbObject) -> str:
    """The view over ``obj.history`` showing the latest run of its kind, with the
    described columns in order (renamed where stored under another name)."""
    columns = ", ".join(
        quote_ident(c.stored_as or n) + ("" if c.stored_as is None else f" as {quote_ident(n)}")
        for n, c in obj.columns.items())
    return (f"create or replace view {qualified(name)} as select {columns} "
            f"from {qualified(obj.history or '')} where run_id = "
            f"(select run_id from main.{quote_ident(f'latest_{obj.run}_run')})")


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """Every view over a history table."""
    for name, obj in load().objects.items():
        if obj.history:
            con.execute(view_sql(name, obj))


def describe(obj: DbObject, column: str, criteria: dict[str, str]) -> str | None:
    """A column's description; a per-criterion column's names the criterion's label."""
    if column in obj.columns:
        return obj.columns[column].description
    for pattern, col in obj.columns.items():
        if PER_CRITERION in pattern:
            head, tail = pattern.split(PER_CRITERION)
            criterion = column.removeprefix(head).removesuffix(tail) \
                if column.startswith(head) and column.endswith(tail) else None
            if criterion in criteria:
                return f"{col.description}: {criteria[criterion]} ({criterion})"
    return None


def apply_comments(con: duckdb.DuckDBPyConnection, criteria: dict[str, str] | None = None
                   ) -> None:
    """``COMMENT ON`` every described table, view and column that exists. ``criteria``
    (name → label) describes the cohort's per-criterion columns; without it they keep
    the comments the run that built the view gave them. Comments take no parameters:
    the text is a literal of the description, quoted by the one helper."""
    present = {(s, t): k for s, t, k in con.execute("""
        select schema_name, table_name, 'table' from duckdb_tables()
        where database_name = current_database()
        union all
        select schema_name, view_name, 'view' from duckdb_views()
        where database_name = current_database() and not internal""").fetchall()}
    columns: dict[tuple[str, str], list[str]] = {}
    for s, t, c in con.execute("""select schema_name, table_name, column_name
            from duckdb_columns() where database_name = current_database()""").fetchall():
        columns.setdefault((s, t), []).append(c)
    for name, obj in load().all_objects().items():
        schema, _, table = name.rpartition(".")
        key = (schema or "main", table)
        if key not in present:
            continue
        con.execute(f"comment on {present[key]} {qualified(name)} is "
                    f"{quote_literal_value(obj.grain)}")
        for column in columns.get(key, []):
            text = describe(obj, column, criteria or {})
            if text is not None:
                con.execute(f"comment on column {qualified(name)}.{quote_ident(column)} is "
                            f"{quote_literal_value(text)}")


def markdown() -> str:
    """The database section of docs/outputs.md: each object's grain and columns."""
    lines = [BEGIN, ""]
    for name, obj in load().objects.items():
        lines += [f"### `{name}` ({obj.kind})", "", obj.grain[0].upper() + obj.grain[1:] + ".",
                  ""]
        if obj.history:
            renamed = [f"`{n}` as `{c.stored_as}`" for n, c in obj.columns.items()
                       if c.stored_as]
            lines += [f"Every run's rows are in `{obj.history}`, the same columns"
                      + (f" ({', '.join(renamed)})" if renamed else "") + ".", ""]
        lines += ["| column | meaning |", "|---|---|"]
        lines += [f"| `{n.replace(PER_CRITERION, '<criterion>')}` | {c.description} |"
                  for n, c in obj.columns.items()]
        lines.append("")
    return "\n".join([*lines, END])


def with_database_section(text: str) -> str:
    """``text`` (docs/outputs.md) with its generated section replaced by ``markdown()``."""
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"{DOCS_FILE.name} has no generated database section")
    return pattern.sub(lambda _: markdown(), text)


def main() -> None:
    """Rewrite docs/outputs.md's database section from sql/interface.yaml."""
    DOCS_FILE.write_text(with_database_section(DOCS_FILE.read_text()))
    sys.stdout.write(f"{DOCS_FILE}: database section written\n")


if __name__ == "__main__":
    main()
