"""The ``familyscreen`` command: ``familyscreen screen --extracts DIR --as-of YYYY-MM-DD
--out DIR [--db FILE] [--criteria FILE]`` runs the screening flow.

Exit 0 on success (rows may have been rejected), 2 with a one-line reason on stderr when
the run cannot go ahead.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pipelines.db import RunError
from pipelines.runs import parse_as_of


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="familyscreen", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    screen = sub.add_parser("screen", help="screen a folder of extracts into a cohort")
    screen.add_argument("--extracts", required=True, help="folder of extract files")
    screen.add_argument("--as-of", required=True, help="the date the screening is as at")
    screen.add_argument("--out", required=True, help="folder for the outputs")
    screen.add_argument("--db", help="DuckDB file (default: familyscreen.duckdb in --out)")
    screen.add_argument("--criteria", help="rule set YAML (default: criteria/phase1.yaml)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:  # arguments an analyst can fix are checked before the engine starts
        parse_as_of(args.as_of)
        if not Path(args.extracts).is_dir():
            raise RunError(f"{args.extracts}: extracts folder not found")
    except RunError as exc:
        print(f"familyscreen: {exc}", file=sys.stderr)
        return 2
    # Prefect's usage telemetry would call out of a council network; never wanted here.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Without a Prefect server, the engine starts a temporary one; on a new machine its
    # first start migrates a database and takes longer than Prefect's 20 s default.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    from pipelines.flows import screen  # imported late: Prefect is slow to import

    try:
        counts = screen(extracts=args.extracts, as_of=args.as_of, out=args.out, db=args.db,
                        criteria_file=args.criteria)
    except RunError as exc:
        print(f"familyscreen: {exc}", file=sys.stderr)
        return 2
    print(f"familyscreen: {counts['cohort']} families in the cohort ({counts['new']} new), "
          f"{counts['rows_rejected']} rows rejected; outputs in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
