"""Plain splink on the FEBRL benchmarks: the yardstick for the pipeline's linkage.

The same fields the pipeline sees when the benchmarks are recast as council extracts
(:func:`bench.febrl.recast`: forename, surname, date of birth and a one-line address; no
identifier, no postcode), linked by splink alone with its library's textbook settings:
``NameComparison`` for each name, ``DateOfBirthComparison``, Jaro–Winkler levels on the
address line, blocking on a full name, on the date of birth, on a name with the birth
year, on the address line and on the first two letters of both names (generous: the
first four alone left FEBRL4's recall at 0.95), u by random sampling, m and the prior by
expectation maximisation. FEBRL4's two files are linked to each other only
(``link_only``: no duplicates within a file), the setting most favourable to splink;
FEBRL1-3 are deduplicated.

Grain of the scores: pairs of records, as for :mod:`bench.febrl`, but without clustering:
a pair scoring at least the threshold is a link. Reported at a match probability of 0.5
(what a user reading splink's output would take as "a match") and at the threshold that
gives splink its best F1 on the benchmark's own truth (which no user has): the pipeline is
compared with both in bench/febrl_results.md.

``python -m bench.splink_plain`` prints one line per benchmark.
"""

from __future__ import annotations

import argparse
import logging
import time

import duckdb
import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from bench import febrl

THRESHOLD = 0.5


def records(name: str) -> pd.DataFrame:
    """The benchmark's records with the fields the pipeline sees, as written (lower case,
    FEBRL's own), ``source_dataset`` (the extract :func:`bench.febrl.febrl` puts the
    record in: FEBRL4's two files are two extracts) and ``entity`` (the truth)."""
    frame = febrl.febrl(name)
    out = pd.DataFrame({
        "unique_id": frame["rec_id"],
        "source_dataset": frame["extract"],
        "forename": frame["given_name"],
        "surname": frame["surname"],
        "dob": [febrl.iso_date(d) or None for d in frame["date_of_birth"]],
        "address": [febrl.address(r) or None for r in frame.to_dict("records")],
        "entity": frame["entity"],
    })
    return out.astype(object).where(out.notna(), None)


def settings(link_type: str) -> SettingsCreator:
    return SettingsCreator(
        link_type=link_type,
        comparisons=[
            cl.NameComparison("forename"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.JaroWinklerAtThresholds("address", [0.95, 0.88, 0.7]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("forename", "surname"),
            block_on("dob"),
            block_on("forename", "substr(dob, 1, 4)"),
            block_on("surname", "substr(dob, 1, 4)"),
            block_on("address"),
            block_on("substr(forename, 1, 2)", "substr(surname, 1, 2)"),
        ],
        retain_matching_columns=False,
    )


def score(name: str) -> tuple[dict[str, float], float]:
    """Link ``name`` with plain splink; F1 at :data:`THRESHOLD` and at the best threshold,
    and the seconds splink took (training and scoring)."""
    frame = records(name)
    con = duckdb.connect()
    link_type = "link_only" if name == "febrl4" else "dedupe_only"
    started = time.perf_counter()
    db_api = DuckDBAPI(connection=con)
    if link_type == "link_only":
        columns = ["entity", "source_dataset"]
        inputs = [db_api.register(frame[frame["source_dataset"] == s].drop(columns=columns),
                                  dataset_display_name=s)
                  for s in sorted(frame["source_dataset"].unique())]
        linker = Linker(inputs, settings(link_type), log_level=logging.ERROR)
    else:
        linker = Linker(db_api.register(frame.drop(columns=["entity", "source_dataset"])),
                        settings(link_type), log_level=logging.ERROR)
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on("forename", "surname", "dob")], recall=0.7)
    training.estimate_u_using_random_sampling(max_pairs=3_000_000, seed=20121)
    for rule in (block_on("dob"), block_on("forename", "surname")):
        training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True)
    predictions = linker.inference.predict(threshold_match_probability=0.01)
    seconds = time.perf_counter() - started
    con.register("truth", frame[["unique_id", "entity"]])
    scored = con.execute(f"""
        select p.match_probability, tl.entity = tr.entity as truly
        from {predictions.physical_name} as p
        join truth as tl on tl.unique_id = p.unique_id_l
        join truth as tr on tr.unique_id = p.unique_id_r""").df()
    (true_pairs,) = con.execute("""select sum(n * (n - 1) / 2) from (
        select count(*) as n from truth group by entity)""").fetchone()
    con.close()

    def f1(threshold: float) -> tuple[float, float, float]:
        linked = scored[scored["match_probability"] >= threshold]
        tp = int(linked["truly"].sum())
        p = tp / len(linked) if len(linked) else 1.0
        r = tp / true_pairs
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    best = max({round(t, 3) for t in scored["match_probability"]},
               key=lambda t: f1(t)[2], default=THRESHOLD)
    p, r, f = f1(THRESHOLD)
    bp, br, bf = f1(best)
    return {"precision": p, "recall": r, "f1": f, "best_threshold": best,
            "best_precision": bp, "best_recall": br, "best_f1": bf}, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="of febrl1..febrl4 (default: all)")
    args = parser.parse_args()
    for name in args.names or febrl.BENCHMARKS:
        s, seconds = score(name)
        print(f"{name.upper()} plain splink: at {THRESHOLD} precision {s['precision']:.4f}, "
              f"recall {s['recall']:.4f}, F1 {s['f1']:.4f}; best F1 {s['best_f1']:.4f} at "
              f"{s['best_threshold']} (precision {s['best_precision']:.4f}, recall "
              f"{s['best_recall']:.4f}); {seconds:.1f}s", flush=True)


if __name__ == "__main__":
    main()
