"""The ``familyscreen`` command: ``familyscreen screen|claims --extracts DIR --as-of
YYYY-MM-DD --out DIR [--db FILE] [--criteria FILE]`` runs the screening or claims flow;
``familyscreen screen-region --region DIR`` a screening of every authority of a region on
a Prefect server's workers; ``familyscreen model`` prints the linkage model a run used,
which ``screen --model FILE`` scores with to reproduce that run's links.

Exit 0 on success (rows may have been rejected; warnings are printed with the summary),
2 when the run cannot go ahead, or under ``--strict`` when it warned: then the last line
on stderr is the one-line reason, naming the file, row or column and what to do. 1 for a
fault of the program itself (the same one line; ``--verbose`` gives the traceback).
Prefect's own log lines stay off the terminal unless ``--verbose``.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import json
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path

from pipelines import analyst, region, run_warnings
from pipelines.db import MEMORY_LIMIT, RunError, checked_size
from pipelines.runs import DB_NAME, load_model, parse_as_of


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="familyscreen", description=__doc__.split("\n\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--verbose", action="store_true",
                        help="show Prefect's log and the traceback of a failure")
    strict = argparse.ArgumentParser(add_help=False)
    strict.add_argument("--strict", action="store_true",
                        help="fail (exit 2) when the run warns: an extract with no data "
                             "rows or too many rejected, a claims run without attachments")
    sub = p.add_subparsers(dest="command", required=True)
    for name, text in (("screen", "screen a folder of extracts into a cohort"),
                       ("claims", "payment-by-results candidates for attached families")):
        cmd = sub.add_parser(name, help=text, parents=[common, strict])
        cmd.add_argument("--extracts", required=True, help="folder of extract files")
        cmd.add_argument("--as-of", required=True, help="the date the run is as at")
        cmd.add_argument("--out", required=True, help="folder for the outputs")
        cmd.add_argument("--db", help="DuckDB file (default: familyscreen.duckdb in --out)")
        cmd.add_argument("--criteria", help="rule set YAML (default: criteria/phase1.yaml)")
        cmd.add_argument("--debug", action="store_true",
                         help="keep every step's intermediate tables (the CTEs of its SQL) "
                              "in the database's debug schema, for inspection")
        if name == "screen":
            cmd.add_argument("--model", help="score with this stored linkage model (from "
                                             "'familyscreen model') instead of training one")
        cmd.add_argument("--memory-limit", metavar="SIZE",
                         help="most memory DuckDB holds before it spills to disk, such as "
                              "8GB (default: FAMILYSCREEN_MEMORY_LIMIT, or 40%% of the "
                              "machine)")
        cmd.add_argument("--wait", type=float, default=120, metavar="MINUTES",
                         help="wait this long for another run of the database to finish "
                              "(default: %(default)g)")
    area = sub.add_parser("screen-region", help="screen every authority of a region on a "
                                                "Prefect server's workers, one run each",
                          parents=[common])
    area.add_argument("--region", required=True,
                      help="folder of authority folders, each holding extracts/")
    area.add_argument("--as-of", help="the date every authority is screened as at "
                                      "(default: today)")
    area.add_argument("--deployment", default="screen/monthly-screening",
                      help="the screening deployment to run (default: %(default)s)")
    area.add_argument("--criteria", help="rule set YAML for every authority (default: the "
                                         "deployment's)")
    check = sub.add_parser("validate", help="check a folder of extracts; print the rejects "
                                            "summary and warnings (nothing is written)",
                           parents=[common, strict])
    check.add_argument("--extracts", required=True, help="folder of extract files")
    check.add_argument("--as-of", help="date the extracts are for (default: today)")
    check.add_argument("--criteria", help="rule set YAML whose warning thresholds apply "
                                          "(default: criteria/phase1.yaml)")
    past = sub.add_parser("runs", help="list past runs from a database", parents=[common])
    past.add_argument("--db", help="DuckDB file (default: familyscreen.duckdb in --out)")
    past.add_argument("--out", default=".", help="output folder holding the database")
    stored = sub.add_parser("model", help="print the linkage model a screening run used "
                                          "(splink's JSON), for --model", parents=[common])
    stored.add_argument("--db", help="DuckDB file (default: familyscreen.duckdb in --out)")
    stored.add_argument("--out", default=".", help="output folder holding the database")
    stored.add_argument("--run", help="run id (default: the latest screening run)")
    return p


# Under --verbose, Prefect logs the temporary server's stop as the process exits: the
# last line waits for an exit handler registered before Prefect's, so run after them.
LAST_LINE: list[str] = []


def print_last_line() -> None:
    for line in LAST_LINE:
        print(line, file=sys.stderr, flush=True)
    LAST_LINE.clear()


def configure_output(verbose: bool) -> None:
    """Before Prefect is imported: what reaches the terminal.

    Prefect's console handler (its own loggers, the temporary server's and everything
    propagated to the root logger) is silenced unless ``verbose``; its logs still reach
    the Prefect API, where a flow run's page shows them. Python's warnings go the same
    way. The settings pass to the temporary server Prefect starts, through the
    environment."""
    # Prefect's usage telemetry would call out of a council network; never wanted here.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Without a Prefect server, the engine starts a temporary one; on a new machine its
    # first start migrates a database and takes longer than Prefect's 20 s default.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    if verbose:
        atexit.unregister(print_last_line)  # once, however often main() is called
        atexit.register(print_last_line)
        return
    for handler in ("CONSOLE", "DEBUG"):  # logging.yml's handlers that write to stderr
        os.environ[f"PREFECT_LOGGING_HANDLERS_{handler}_LEVEL"] = "CRITICAL"
    logging.captureWarnings(True)
    warnings.simplefilter("ignore")


def manifest_warnings(out: Path, command: str) -> list[dict]:
    """The warnings of the run just written into ``out``, from its manifest."""
    name = "run_manifest.json" if command == "screen" else "claims_manifest.json"
    return json.loads((out / name).read_text()).get("warnings", [])


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
    configure_output(args.verbose)
    code, reason = outcome(args)
    if reason:
        line = f"familyscreen: {reason}"
        if args.verbose and "prefect" in sys.modules:
            LAST_LINE.append(line)
        else:
            print(line, file=sys.stderr, flush=True)
    return code


def outcome(args: argparse.Namespace) -> tuple[int, str | None]:
    """The exit code, and the one-line reason of a run that could not go ahead."""
    try:
        return execute(args), None
    except RunError as exc:
        return 2, str(exc)
    except KeyboardInterrupt:
        return 130, "stopped (Ctrl-C); earlier outputs are as they were"
    except Exception as exc:
        if args.verbose:
            traceback.print_exc()
        reason = (str(exc).splitlines() or [""])[0]
        return 1, (f"internal error ({type(exc).__name__}: {reason}); earlier outputs are "
                   "as they were; run again with --verbose and report the traceback")


def execute(args: argparse.Namespace) -> int:
    """Check what an analyst can fix before the engine starts, then run the command."""
    if args.command in ("runs", "model"):
        db = Path(args.db) if args.db else Path(args.out) / DB_NAME
        print(analyst.list_runs(db) if args.command == "runs"
              else analyst.stored_model(db, args.run))
        return 0
    as_of = parse_as_of(args.as_of) if args.as_of else dt.date.today()
    if args.command == "screen-region":
        region.require_server()
        region.authorities(Path(args.region))
    elif not Path(args.extracts).is_dir():
        raise RunError(f"{args.extracts}: extracts folder not found; give the folder that "
                       "holds the extract files")
    if getattr(args, "model", None):
        load_model(Path(args.model))
    if getattr(args, "memory_limit", None):
        os.environ[MEMORY_LIMIT] = checked_size(args.memory_limit, "--memory-limit")
    if args.command == "validate":
        summary, found = analyst.check_extracts(
            Path(args.extracts), as_of, Path(args.criteria) if args.criteria else None)
        print(summary)
        print_warnings(found)
        if args.strict and found:
            raise RunError(run_warnings.strict_failure(found))
        return 0
    show_progress()
    from pipelines import flows  # imported late: Prefect is slow to import

    if args.command == "screen-region":
        states = flows.screen_region(region=args.region, as_of=as_of.isoformat(),
                                     deployment=args.deployment,
                                     criteria_file=args.criteria)
        print(f"familyscreen: {len(states)} authorities screened as at "
              f"{as_of.isoformat()}; outputs in {args.region}/<authority>/out")
        return 0
    model = {"model_file": args.model} if args.command == "screen" and args.model else {}
    counts = getattr(flows, args.command)(
        extracts=args.extracts, as_of=args.as_of, out=args.out, db=args.db,
        criteria_file=args.criteria, strict=args.strict, debug=args.debug,
        wait_minutes=args.wait, **model)
    if args.command == "screen":
        print(f"familyscreen: {counts['cohort']} families in the cohort ({counts['new']} new),"
              f" {counts['rows_rejected']} rows rejected; outputs in {args.out}")
    else:
        print(f"familyscreen: {counts['claimable']} results claimable, {counts['not_yet']} not "
              f"yet, {counts['already_claimed']} already claimed; outputs in {args.out}")
    print_warnings(manifest_warnings(Path(args.out), args.command))
    return 0


def print_warnings(found: list[dict]) -> None:
    for warning in found:
        print(f"familyscreen: warning: {warning['message']}")


if __name__ == "__main__":
    sys.exit(main())
