"""The ``familyscreen`` command: ``familyscreen screen|claims --extracts DIR --as-of
YYYY-MM-DD --out DIR [--db FILE] [--criteria FILE]`` runs the screening or claims flow.

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
    for name, text in (("screen", "screen a folder of extracts into a cohort"),
                       ("claims", "payment-by-results candidates for attached families")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--extracts", required=True, help="folder of extract files")
        cmd.add_argument("--as-of", required=True, help="the date the run is as at")
        cmd.add_argument("--out", required=True, help="folder for the outputs")
        cmd.add_argument("--db", help="DuckDB file (default: familyscreen.duckdb in --out)")
        cmd.add_argument("--criteria", help="rule set YAML (default: criteria/phase1.yaml)")
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
    from pipelines import flows  # imported late: Prefect is slow to import

    try:
        counts = getattr(flows, args.command)(
            extracts=args.extracts, as_of=args.as_of, out=args.out, db=args.db,
            criteria_file=args.criteria)
    except RunError as exc:
        print(f"familyscreen: {exc}", file=sys.stderr)
        return 2
    if args.command == "screen":
        print(f"familyscreen: {counts['cohort']} families in the cohort ({counts['new']} new),"
              f" {counts['rows_rejected']} rows rejected; outputs in {args.out}")
    else:
        print(f"familyscreen: {counts['claimable']} results claimable, {counts['not_yet']} not "
              f"yet, {counts['already_claimed']} already claimed; outputs in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
