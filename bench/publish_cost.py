"""What publishing a run costs: the working copy a run makes of the database and the
rename that publishes it, against the whole run, for consecutive screenings of one folder
of extracts into one database (the copy grows with the history).

    .venv/bin/python -m bench.publish_cost --extracts bench/work/borough-50000-seed1 \
        --out /tmp/publish-cost --runs 3

Prints one JSON line per run: seconds for the run (waiting for its turn, preparing, every
step, publishing), for the copy, for writing it to disk and renaming, and the database's
size before the run. The extracts are only read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import time
from pathlib import Path

from pipelines import publish, runs, steps

AS_OF = dt.date(2025, 9, 30)


def timed(spent: dict[str, float], name: str, function):
    def run(*args):
        started = time.perf_counter()
        try:
            return function(*args)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - started
    return run


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--extracts", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="emptied first")
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    db = args.out / runs.DB_NAME
    begin, replace = publish.begin, publish.replace
    for number in range(args.runs):
        spent: dict[str, float] = {}
        publish.begin = timed(spent, "copy", begin)
        publish.replace = timed(spent, "sync_and_rename", replace)
        size = db.stat().st_size if db.exists() else 0
        started = time.perf_counter()
        with publish.turn(db, 0, publish.holder_text("screen")):
            run, rules = runs.prepare(args.extracts, (AS_OF + dt.timedelta(days=number))
                                      .isoformat(), args.out, None, None)
            steps.execute(run, rules)
        total = time.perf_counter() - started
        overhead = spent["copy"] + spent["sync_and_rename"]
        print(json.dumps({"run": number + 1, "database_mb_before": round(size / 1e6),
                          "run_s": round(total, 2), "copy_s": round(spent["copy"], 2),
                          "sync_and_rename_s": round(spent["sync_and_rename"], 2),
                          "publishing_percent": round(100 * overhead / total, 1)}),
              flush=True)


if __name__ == "__main__":
    main()
