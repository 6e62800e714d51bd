"""Scale benchmark: screen generated boroughs of several sizes and write bench/results.md.

For each size (households): generate the extracts (timed apart: not part of a run), time
DuckDB alone on the same files twice (its plain scan, ``count(*)`` over every extract, and
its storing of every extract in a database file: the floors), then screen them in a child
process without the Prefect engine,
timing each step and reading the child's peak memory. The smallest size is also screened
through the Prefect flow, and the difference is reported as engine overhead. Cohort and
link quality are scored against the generator's truth.

``make bench`` runs 50,000 and 1,000,000 households; ``BENCH_SIZES`` changes that. Each
size is screened three times (``--runs``; ``BENCH_RUNS``), each into a new database: the
tables give the median run, and a last table the spread of all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

from pipelines import __version__
from pipelines.db import configure, connect, memory_limit, quote_ident
from pipelines.extract import sniff
from synthetic import borough, quality

AS_OF = dt.date(2025, 9, 30)
ROOT = Path(__file__).resolve().parents[1]


def generate(size: int, work: Path, seed: int) -> tuple[Path, float]:
    """Extracts for ``size`` households (reused when already there: generation is seeded)."""
    folder = work / f"borough-{size}-seed{seed}"
    done = folder / ".complete"
    started = time.perf_counter()
    if not done.exists():
        borough.generate(folder, households=size, seed=seed, as_of=AS_OF,
                        workers=os.cpu_count() or 1)
        done.write_text(f"{time.perf_counter() - started:.1f}\n")
    return folder, float(done.read_text())


FLOOR_REPEATS = 3


def duckdb_encodings(folder: Path) -> dict[Path, str]:
    """Every CSV extract with the encoding DuckDB reads it in (DuckDB reads no
    Windows-1252; Latin-1 splits such a file into the same rows)."""
    return {path: "latin-1" if sniff(path)[0] == "cp1252" else "utf-8"
            for path in sorted(folder.glob("*.csv"))}


def scan_floor(folder: Path) -> tuple[float, int]:
    """Seconds for DuckDB to count the rows of every extract (the best of
    ``FLOOR_REPEATS`` scans: the first may read the files from disk, the screening finds
    them cached), and the rows counted. Counting parses every field: counting every
    column's values instead takes about 1.2 times as long (docs/decisions.md)."""
    encodings = duckdb_encodings(folder)
    con = duckdb.connect()
    times = []
    for _ in range(FLOOR_REPEATS):
        started = time.perf_counter()
        rows = 0
        for path, encoding in encodings.items():
            (n,) = con.execute("select count(*) from read_csv($p, all_varchar = true, "
                               "encoding = $e)", {"p": str(path), "e": encoding}).fetchone()
            rows += n
        times.append(time.perf_counter() - started)
    con.close()
    return min(times), rows


def store_floor(folder: Path, scratch: Path) -> float:
    """Seconds for DuckDB to store every extract, all text, as a table of a new database
    file (checkpointed), with the run's memory limit: what the load step's ``raw_*``
    tables cost DuckDB itself, with none of familyscreen's code (best of
    ``FLOOR_REPEATS``)."""
    encodings = duckdb_encodings(folder)
    times = []
    for _ in range(FLOOR_REPEATS):
        scratch.mkdir(parents=True, exist_ok=True)
        database = scratch / "store-floor.duckdb"
        database.unlink(missing_ok=True)
        started = time.perf_counter()
        con = duckdb.connect(str(database))
        configure(con, scratch / "store-floor.duckdb.tmp")
        for path, encoding in encodings.items():
            con.execute(f"create table {quote_ident(path.stem.lower())} as select * from "
                        "read_csv($p, all_varchar = true, encoding = $e)",
                        {"p": str(path), "e": encoding})
        con.execute("checkpoint")
        con.close()
        times.append(time.perf_counter() - started)
        database.unlink()
    return min(times)


def child(folder: Path, out: Path) -> None:
    """Screen ``folder`` without the engine; print step timings as JSON."""
    from pipelines import runs, steps

    times: dict[str, float] = {}
    peaks: dict[str, int] = {}  # the process's peak resident memory (KiB) after each step

    def timed(name, step):
        def run(*args):
            started = time.perf_counter()
            try:
                return step(*args)
            finally:
                times[name] = time.perf_counter() - started
                peaks[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return run

    run, rules = runs.prepare(folder, AS_OF.isoformat(), out, None, None)
    started = time.perf_counter()
    counts = steps.execute(run, rules, wrap=timed)
    total = time.perf_counter() - started
    with connect(run.db) as con:
        q = quality.score(con, folder / "truth")
        (scored, trained) = con.execute(
            "select n_pairs_scored, trained_from from work.link_model").fetchone()
        review = dict(con.execute("select priority, count(*) from work.review_priorities "
                                  "group by all").fetchall())
    print(json.dumps({"steps": times, "peaks": peaks, "total": total,
                      "persons": counts.get("persons"), "families": counts.get("families"),
                      "cohort": counts.get("cohort"),
                      "pairs_scored": scored, "trained_from": trained,
                      "review": [review.get(p, 0) for p in (1, 2, 3, 4)],
                      "cohort_precision": q.precision, "cohort_recall": q.recall,
                      "pair_precision": q.pair_precision, "pair_recall": q.pair_recall}))


def splink_alone(db: Path) -> None:
    """Print the seconds splink takes on its own to train on a finished run's profiles
    and score their blocked pairs: the link step's floor. The same profiles
    (``link_profiles``), comparisons, blocking rules, training and threshold
    (``link_model.score``), in a process of its own, so that neither the run's memory
    nor its caches help or hinder it."""
    from pipelines import link_model
    from pipelines.rule_set import load_rule_set
    from pipelines.runs import DEFAULT_CRITERIA

    with connect(db, read_only=True) as con:
        profiles = con.execute("select * from work.link_profiles").to_arrow_table()
    started = time.perf_counter()
    scores, _ = link_model.score(profiles, load_rule_set(DEFAULT_CRITERIA).linkage)
    print(json.dumps({"seconds": time.perf_counter() - started, "pairs": scores.num_rows}))


def splink_floor(db: Path) -> float:
    """:func:`splink_alone` in a child process; its seconds."""
    done = subprocess.run([sys.executable, "-m", "bench.scale", "--splink-alone", str(db)],
                          check=True, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.splitlines()[-1])["seconds"]


def fresh(out: Path) -> Path:
    """``out`` emptied: every size is screened into a new database, a first run. A run
    into a database of earlier runs does more (ids carried on, history appended) in a
    file that grows (4.3 GB after one run at 1,000,000 households, 6.7 GB after three),
    and the figures would depend on how often the benchmark had run before."""
    shutil.rmtree(out, ignore_errors=True)
    return out


def screen_in_child(folder: Path, out: Path) -> tuple[dict, float]:
    """(child's figures, its peak resident memory in GiB)."""
    proc = subprocess.Popen([sys.executable, "-m", "bench.scale", "--child", str(folder),
                             str(out)], stdout=subprocess.PIPE, cwd=ROOT)
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status:
        raise RuntimeError(f"screening {folder} failed (status {status})")
    return json.loads(stdout.splitlines()[-1]), usage.ru_maxrss / 2**20


def middle(ordered: list) -> Any:
    """The median of a sorted list (of an even number, the lower of the middle two)."""
    return ordered[(len(ordered) - 1) // 2]


def median_run(runs: list[tuple[dict, float]]) -> tuple[dict, float]:
    """The run of median total time (of an even number, the faster of the middle two)."""
    return middle(sorted(runs, key=lambda run: run[0]["total"]))


def spread_lines(results: list[dict]) -> list[str]:
    """The spread of every size's runs: the whole run's and the link step's seconds,
    fastest, median and slowest, and the range as a share of the median; the highest
    peak memory; and whether every run found the same people and cohort (the runs are
    seeded: a difference would be a fault, not noise)."""
    lines = ["", "Spread over the runs of each size (the tables above give the median run): "
             "seconds of the whole run and of the link step, fastest, median and slowest, "
             "and the range as a share of the median.", "",
             "| Households | Runs | Total: fastest | median | slowest | range | "
             "Link: fastest | median | slowest | range | Highest peak (GiB) | "
             "Same people and cohort |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        runs = r.get("runs", [(r["figures"], r["peak_gib"])])
        cells = []
        for seconds in ([f["total"] for f, _ in runs],
                        [f["steps"].get("link", 0) for f, _ in runs]):
            ordered = sorted(seconds)
            median = middle(ordered)
            cells += [f"{ordered[0]:.1f}", f"{median:.1f}", f"{ordered[-1]:.1f}",
                      f"{(ordered[-1] - ordered[0]) / median:.0%}" if median else "–"]
        same = len({(f["persons"], f["families"], f["cohort"]) for f, _ in runs}) == 1
        lines.append(f"| {r['size']:,} | {len(runs)} | {' | '.join(cells)} | "
                     f"{max(peak for _, peak in runs):.1f} | {'yes' if same else 'no'} |")
    return lines


def peak_step(peaks: dict[str, int]) -> str:
    """The step during which the process reached its peak memory: the first whose
    running maximum is the final one."""
    top = max(peaks.values())
    return next(name for name, peak in peaks.items() if peak == top)


STEP_DONE = re.compile(r"\] \w+ done in ([0-9.]+)s")


def prefect_overhead(folder: Path, out: Path, home: Path) -> tuple[float, float]:
    """(wall seconds of ``familyscreen screen`` through the Prefect flow, seconds of that
    wall not spent inside the steps): the engine's share, measured within the one run
    (start-up, temporary server, flow and task runs), so the machine's load cannot make
    it negative. Prefect's home (``home``) is kept from run to run, as an analyst's is:
    its first start builds Prefect's own database."""
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PREFECT_HOME=str(home), PREFECT_LOGGING_LEVEL="WARNING")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "screen", "--extracts",
                           str(folder), "--as-of", AS_OF.isoformat(), "--out", str(out)],
                          check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    return wall, wall - sum(float(s) for s in STEP_DONE.findall(done.stderr))


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {total:.0f} GiB memory; DuckDB "
            f"{duckdb.__version__} with memory limit {memory_limit()}; "
            f"Python {platform.python_version()}")


STEP_GROUPS = ["load", "validate", "standardise", "link", "households", "criteria", "cohort",
               "outputs"]


def step_cells(values: dict[str, float], fmt: str) -> str:
    return " | ".join(format(values.get(s, 0), fmt) for s in STEP_GROUPS)


def report(results: list[dict], path: Path) -> None:
    steps_header = " | ".join(s.capitalize() for s in STEP_GROUPS)
    lines = [
        "# Scale benchmark",
        "",
        f"Run {dt.datetime.now():%Y-%m-%d %H:%M} with familyscreen {__version__} "
        f"(`make bench`). Machine: {machine()}.",
        "",
        "Times are wall-clock seconds of the screening without the Prefect engine "
        "(`steps.execute`, one child process per size); peak memory is that process's "
        "maximum resident set, and *peak in* the step during which it was reached. "
        "Generation is not part of a run.",
        "",
        f"| Households | Input rows | Generate (s) | {steps_header} | Total (s) | "
        "Peak memory (GiB) | Peak in |",
        "|" + "---:|" * (len(STEP_GROUPS) + 5) + "---|",
    ]
    for r in results:
        f = r["figures"]
        lines.append(f"| {r['size']:,} | {r['rows']:,} | {r['generate']:.0f} | "
                     f"{step_cells(f['steps'], '.1f')} | {f['total']:.1f} | "
                     f"{r['peak_gib']:.1f} | {peak_step(f['peaks'])} |")
    lines += [
        "",
        "Two floors, each the best of "
        f"{FLOOR_REPEATS}: the *scan* floor is DuckDB counting the rows of every extract "
        "(`select count(*) from read_csv(...)`, which parses every field); the *store* "
        "floor is DuckDB storing every extract, all text, as a table of a new database "
        "file: what the load step's raw tables cost DuckDB alone. Why both: "
        "docs/decisions.md, \"The benchmark's floors\".",
        "",
        "| Households | Rows/s | Scan floor (s) | × scan floor | Store floor (s) | "
        "× store floor | Load ÷ store floor |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        total = r["figures"]["total"]
        load = r["figures"]["steps"].get("load", 0)
        lines.append(f"| {r['size']:,} | {r['rows'] / total:,.0f} | {r['floor']:.1f} | "
                     f"{total / r['floor']:.0f} | {r['store_floor']:.1f} | "
                     f"{total / r['store_floor']:.1f} | {load / r['store_floor']:.2f} |")
    lines += ["", "The link step against its floor: splink alone training on the same run's "
              "profiles and scoring their blocked pairs (the same comparisons, blocking rules, "
              "training and threshold; `link_model.score` in a process of its own, on the last "
              "run's profiles). The rest of the step is the deterministic passes, clustering "
              "with its checks, and the ids.", "",
              "| Households | Link (s) | Splink alone (s) | Link ÷ splink alone |",
              "|---:|---:|---:|---:|"]
    for r in results:
        if r.get("splink_floor"):
            link = r["figures"]["steps"].get("link", 0)
            lines.append(f"| {r['size']:,} | {link:.1f} | {r['splink_floor']:.1f} | "
                         f"{link / r['splink_floor']:.1f} |")
    lines += ["", "Cost per input row (microseconds), by step: a step whose cost grows faster "
              "than its input shows here as a rising figure.", "",
              f"| Households | {steps_header} | Total |", "|" + "---:|" * (len(STEP_GROUPS) + 2)]
    for r in results:
        per_row = {k: v / r["rows"] * 1e6 for k, v in r["figures"]["steps"].items()}
        lines.append(f"| {r['size']:,} | {step_cells(per_row, '.2f')} | "
                     f"{r['figures']['total'] / r['rows'] * 1e6:.2f} |")
    lines += ["", "| Households | People | Families | Cohort | Pairs scored | "
              "Link precision | Link recall | Cohort precision | Cohort recall |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        f = r["figures"]
        lines.append(f"| {r['size']:,} | {f['persons']:,} | {f['families']:,} | "
                     f"{f['cohort']:,} | {f['pairs_scored']:,} | {f['pair_precision']:.4f} | "
                     f"{f['pair_recall']:.4f} | {f['cohort_precision']:.4f} | "
                     f"{f['cohort_recall']:.4f} |")
    lines += ["", "Review queue by priority (what a decision could change in the cohort: 1 two "
              "families, one meeting a criterion; 2 one cohort family; 3 one family outside the "
              "cohort; 4 neither family meeting any criterion):", "",
              "| Households | Pairs | 1 | 2 | 3 | 4 |", "|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        review = r["figures"]["review"]
        lines.append(f"| {r['size']:,} | {sum(review):,} | "
                     + " | ".join(f"{n:,}" for n in review) + " |")
    lines += spread_lines(results)
    overhead = [r for r in results if r.get("prefect_overhead") is not None]
    if overhead:
        r = overhead[0]
        wall, engine = r["prefect_overhead"]
        lines += ["", f"Prefect engine overhead ({r['size']:,} households): "
                  f"`familyscreen screen` through the flow took {wall:.1f} s, of which "
                  f"{engine:.1f} s was outside the steps (Python and Prefect start-up, the "
                  "temporary server, flow and task runs), measured within that one run. It "
                  "does not grow with the data: one task per step."]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", type=int, nargs="+", default=[50_000, 1_000_000])
    p.add_argument("--work", type=Path, default=ROOT / "bench" / "work")
    p.add_argument("--results", type=Path, default=ROOT / "bench" / "results.md")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--runs", type=int, default=3,
                   help="screenings per size: the tables give the median one, and the "
                        "spread of all (default 3)")
    p.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    p.add_argument("--splink-alone", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.splink_alone:
        splink_alone(args.splink_alone)
        return
    results = []
    for n, size in enumerate(sorted(args.sizes)):
        folder, generate_seconds = generate(size, args.work, args.seed)
        floor_seconds, rows = scan_floor(folder)
        store_seconds = store_floor(folder, args.work / "floor")
        runs = [screen_in_child(folder, fresh(args.work / f"out-{size}"))
                for _ in range(args.runs)]
        figures, peak = median_run(runs)
        result = {"size": size, "rows": rows, "generate": generate_seconds,
                  "floor": floor_seconds, "store_floor": store_seconds, "figures": figures,
                  "peak_gib": peak, "runs": runs,
                  "splink_floor": splink_floor(args.work / f"out-{size}" / "familyscreen.duckdb")}
        if n == 0:
            try:
                result["prefect_overhead"] = prefect_overhead(
                    folder, fresh(args.work / "out-prefect"), args.work / "prefect-home")
            except subprocess.CalledProcessError as exc:  # reported, not fatal
                print(f"Prefect run failed: {exc}", file=sys.stderr)
        results.append(result)
        report(results, args.results)  # after each size, so a long run shows progress
        print(f"{size:,} households: {figures['total']:.1f}s, peak {peak:.1f} GiB",
              flush=True)


if __name__ == "__main__":
    main()
