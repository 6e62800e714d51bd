"""Exports: the files in ``--out`` (CSVs, run report, manifest).

CSVs are UTF-8 with BOM for Excel, booleans ``true``/``false``, dates ISO, and any text
cell beginning with ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed with
an apostrophe so Excel shows it as text instead of running it as a formula. They are
written into the private folder :func:`pipelines.publish.staged_outputs` gives, and
moved into place only when all are written.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import duckdb
import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape

from pipelines import SQL_DIR, TEMPLATES_DIR
from pipelines.db import WORK, bind, quote_ident, step_sql
from pipelines.rule_set import RuleSet

FORMULA = r"^[-=+@\t\r]"  # a text cell starting so is one Excel would run as a formula
OUTPUTS_DIR = SQL_DIR / "outputs"
# The files a run writes for people, each declared once: command, SQL, grain, columns.
OUTPUTS: dict[str, dict[str, Any]] = yaml.safe_load(
    (OUTPUTS_DIR / "outputs.yaml").read_text(encoding="utf-8"))["files"]


def cell_sql(column: str, column_type: str) -> str:
    """The SQL for one column as Excel should see it, as text (empty for null)."""
    c = quote_ident(column)
    if column_type == "BOOLEAN":
        text = f"case when {c} then 'true' when not {c} then 'false' end"
    elif column_type == "DATE" or column_type.startswith("TIMESTAMP"):
        text = f"strftime({c}, '%Y-%m-%d')"
    elif column_type == "VARCHAR":
        text = (f"case when regexp_matches({c}, '{FORMULA}') then '''' || {c} "
                f"else {c} end")
    else:
        text = f"cast({c} as varchar)"
    return f"coalesce({text}, '')"


def write_csv(path: Path, columns: list[str], rows: list[tuple]) -> int:
    """Write rows of text under a header, UTF-8 with BOM; returns the number of rows."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(columns)
        writer.writerows(rows)
    return len(rows)


def export_table(con: duckdb.DuckDBPyConnection, sql: str, path: Path,
                 params: dict[str, Any] | None = None, header: list[str] | None = None) -> int:
    """The rows of ``sql``, in its order, as a CSV whose cells are made safe in DuckDB
    (a region's review queue is hundreds of thousands of rows: no Python per cell),
    under ``header`` when given (names no identifier could carry), else its columns."""
    result = con.execute(sql, params).to_arrow_table()
    con.register("__rows", result)
    try:
        types = con.execute("describe select * from __rows").fetchall()
        cells = ", ".join(cell_sql(name, kind) for name, kind, *_ in types)
        # a scan of one registered table keeps its order (preserve_insertion_order)
        rows = con.execute(f"select {cells} from __rows").fetchall()
    finally:
        con.unregister("__rows")
    return write_csv(path, header or result.column_names, rows)


REJECT_COLUMNS = ["extract", "row", "column", "problem"]


def raw_fields(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The raw fields of the rejected rows in ``table``, each once: the extracts in name
    order, each's fields in its file's order (so the person columns most extracts share
    come first, once)."""
    seen: dict[str, None] = {}
    for (keys,) in con.execute(
            f"select json_keys(raw_values) from {table} where raw_values is not null "
            "group by extract, json_keys(raw_values) order by extract, min(\"row\")").fetchall():
        seen.update(dict.fromkeys(keys))
    return list(seen)


def export_rejects(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> int:
    """``rejects.csv``: one row per rejected input row (extract, row, column, problem)
    followed by one column per raw field of the extracts, the row's values as read (empty
    where its extract has no such field), for Excel: no JSON to unpick. A raw field named
    like one of the first four columns is headed ``raw_<name>``. ``table`` holds the
    rejects (a run's, or a claims run's)."""
    fields = raw_fields(con, table)
    params = {f"f{i}": "/" + f.replace("~", "~0").replace("/", "~1")
              for i, f in enumerate(fields)}
    headers = [f"raw_{f}" if f in REJECT_COLUMNS else f for f in fields]
    raw = "".join(f", json_extract_string(raw_values, $f{i}) as {quote_ident(f'r{i}')}"
                  for i in range(len(fields)))
    sql = (f"select extract, \"row\", \"column\", problem{raw} from {table} "
           "order by extract, \"row\", \"column\"")
    return export_table(con, sql, path, params, header=[*REJECT_COLUMNS, *headers])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_declared(con: duckdb.DuckDBPyConnection, name: str, folder: Path,
                    criteria: list[str] | None = None) -> int:
    """The file ``name`` as ``sql/outputs/outputs.yaml`` declares it, into ``folder``:
    its SQL's rows in its order (``criteria``: the rule set's, for its per-criterion
    columns), or the rejects."""
    declared = OUTPUTS[name]
    if declared["sql"] is None:
        return export_rejects(con, f"{WORK}.rejects", folder / name)
    sql = step_sql(f"outputs/{declared['sql']}")
    return export_table(con, sql, folder / name, bind(sql, {"criteria": criteria}))


def write_csvs(con: duckdb.DuckDBPyConnection, rules: RuleSet, folder: Path,
               command: str = "screen") -> dict[str, int]:
    """Every file ``command`` writes for people (``sql/outputs/outputs.yaml``), in a
    stable order (byte-identical reruns)."""
    return {name: export_declared(con, name, folder, list(rules.criteria))
            for name, declared in OUTPUTS.items() if declared["command"] == command}


def write_manifest(folder: Path, name: str, manifest: dict[str, Any]) -> None:
    """The manifest, with the SHA-256 of every other file already in ``folder``."""
    manifest["outputs"] = [
        {"file": str(p.relative_to(folder)), "sha256": sha256(p)}
        for p in sorted(folder.rglob("*")) if p.is_file() and p.name != name
    ]
    (folder / name).write_text(json.dumps(manifest, indent=2, default=str) + "\n")


def render(path: Path, template: str, context: dict[str, Any]) -> None:
    """A self-contained HTML page from ``templates/<template>.j2`` (no network fetches)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR),
                      autoescape=select_autoescape(["html", "j2"]))
    path.write_text(env.get_template(f"{template}.j2").render(**context), encoding="utf-8")
