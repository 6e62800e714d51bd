"""The ``familyscreen`` command: ``familyscreen screen|claims --extracts DIR --as-of
YYYY-MM-DD --out DIR [--db FILE] [--criteria FILE]`` runs the screening or claims flow;
``familyscreen screen-region --region DIR`` a screening of every authority of a region on
a Prefect server's workers.

Exit 0 on success (rows may have been rejected), 2 with a one-line reason on stderr when
the run cannot go ahead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pipelines import analyst, region
from pipelines.db import RunError
from pipelines.runs import DB_NAME, parse_as_of


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
        cmd.add_argument("--wait", type=float, default=120, metavar="MINUTES",
                         help="wait this long for another run of the database to finish "
                              "(default: %(default)g)")
    area = sub.add_parser("screen-region", help="screen every authority of a region on a "
                                                "Prefect server's workers, one run each")
    area.add_argument("--region", required=True,
                      help="folder of authority folders, each holding extracts/")
    area.add_argument("--as-of", help="the date every authority is screened as at "
                                      "(default: today)")
    area.add_argument("--deployment", default="screen/monthly-screening",
                      help="the screening deployment to run (default: %(default)s)")
    area.add_argument("--criteria", help="rule set YAML for every authority (default: the "
                                         "deployment's)")
    check = sub.add_parser("validate", help="check a folder of extracts; print the rejects "
                                            "summary (nothing is written)")
    check.add_argument("--extracts", required=True, help="folder of extract files")
    check.add_argument("--as-of", help="date the extracts are for (default: today)")
    past = sub.add_parser("runs", help="list past runs from a database")
    past.add_argument("--db", help="DuckDB file (default: familyscreen.duckdb in --out)")
    past.add_argument("--out", default=".", help="output folder holding the database")
    return p



def show_progress() -> None:
    """Step-by-step progress on stderr (the ``familyscreen`` logger: counts and times)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("familyscreen: %(message)s"))
    logger = logging.getLogger("familyscreen")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "runs":
            print(analyst.list_runs(Path(args.db) if args.db
                                     else Path(args.out) / DB_NAME))
            return 0
        # arguments an analyst can fix are checked before the engine starts
        as_of = parse_as_of(args.as_of) if args.as_of else dt.date.today()
        if args.command == "screen-region":
            region.require_server()
            region.authorities(Path(args.region))
        elif not Path(args.extracts).is_dir():
            raise RunError(f"{args.extracts}: extracts folder not found")
        if args.command == "validate":
            print(analyst.check_extracts(Path(args.extracts), as_of))
            return 0
    except RunError as exc:
        print(f"familyscreen: {exc}", file=sys.stderr)
        return 2
    # Prefect's usage telemetry would call out of a council network; never wanted here.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Without a Prefect server, the engine starts a temporary one; on a new machine its
    # first start migrates a database and takes longer than Prefect's 20 s default.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    show_progress()
    from pipelines import flows  # imported late: Prefect is slow to import

    try:
        if args.command == "screen-region":
            states = flows.screen_region(region=args.region, as_of=as_of.isoformat(),
                                         deployment=args.deployment,
                                         criteria_file=args.criteria)
            print(f"familyscreen: {len(states)} authorities screened as at "
                  f"{as_of.isoformat()}; outputs in {args.region}/<authority>/out")
            return 0
        counts = getattr(flows, args.command)(
            extracts=args.extracts, as_of=args.as_of, out=args.out, db=args.db,
            criteria_file=args.criteria, wait_minutes=args.wait)
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
