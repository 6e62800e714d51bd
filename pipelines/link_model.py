"""The probabilistic person-linkage model: splink's Fellegi–Sunter on ``link_profiles``.

Grain in: one row per distinct identity within a deterministic cluster (see
``sql/link/link_profiles.sql``). Grain out (``link_scores``): one row per pair of
profiles from different clusters that a blocking rule brought together and that scored
at least the review threshold, with the model's match weight and probability.

Parameters come from the data themselves, reproducibly:
- u (agreement by chance) from a seeded random sample of pairs;
- m (agreement among true matches) from the pairs that share a source identifier (a
  UPN, NINO or police reference written with independent name errors by two sources):
  these are labelled matches the run already has. Where there are too few (a dataset with
  no identifiers), m comes from expectation maximisation over the blocked pairs instead;
- the prior from pairs agreeing on full name and date of birth.

splink runs on its own in-memory DuckDB so that its working tables never reach the
run database; the profiles go in and the scores come back as Arrow tables.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from splink import DuckDBAPI, Linker, SettingsCreator

from pipelines.db import configure
from pipelines.settings import Linkage

NULL = "is_null_level"
_SIDE = re.compile(r"\b([lr])\.(\w+)")


def _level(sql: str, label: str, **extra: Any) -> dict[str, Any]:
    """A comparison level written like the blocking rules (``l.x = r.x``), in the
    ``x_l = x_r`` form splink's comparisons take."""
    return {"sql_condition": _SIDE.sub(r"\2_\1", sql), "label_for_charts": label, **extra}


def _null(column: str) -> dict[str, Any]:
    return _level(f"l.{column} is null or r.{column} is null", "missing", **{NULL: True})


def _jaro_winkler(column: str, threshold: float) -> dict[str, Any]:
    return _level(f"jaro_winkler_similarity(l.{column}, r.{column}) >= {threshold}",
                  f"Jaro-Winkler ≥ {threshold:.2f}")


def _swapped(counted: bool) -> dict[str, Any]:
    """Forename and surname the wrong way round: both names moved (a slip allowed in
    either). One name alone is not a swap: LIAM MARTIN and FAIRMORE LIAM, born the same
    day, are two children, and an either-way condition counted that one shared word in
    both name comparisons, scoring such pairs near 0.8. One moved name is a level of the
    forename comparison alone, weighed by the data.

    A swap is one event, weighed once: in the forename comparison (``counted``); the
    surname comparison gives it no weight, as for a missing name, rather than calling
    the surnames different. Weighed in both it had counted twice (13.5 bits each, twice
    an exact forename and surname), and carried a mother's benefit claim, her name
    written the wrong way round, past the check on dates of birth 41 years apart into
    her daughter of the same name."""
    return _level("jaro_winkler_similarity(l.forename, r.surname) >= 0.92 "
                  "and jaro_winkler_similarity(l.surname, r.forename) >= 0.92",
                  "forename and surname swapped" if counted
                  else "forename and surname swapped (weighed with the forename)",
                  **({} if counted else {NULL: True}))


def _else() -> dict[str, Any]:
    return _level("else", "different")


SAME_BUILDING = "l.house_number = r.house_number and l.flat is not distinct from r.flat"
# At least two words of the street and town in common, and at least half of the shorter's.
MOST_WORDS = ("len(list_intersect(l.address_words, r.address_words)) >= greatest(2, "
              "least(len(l.address_words), len(r.address_words)) / 2)")
# ... or the street and town run together alike (Jaro-Winkler 0.9): a street run into
# the next word ("STURGESWPLACE") or a word split in two ("VAL LEY") leaves two words in
# common of six, but changes only a letter or two of the whole. Jaro-Winkler, not an edit
# distance: on the model's 3,000,000 sampled pairs the edit distance took 20 s, this 0.6.
CLOSE_TEXT = "jaro_winkler_similarity(l.address_text, r.address_text) >= 0.9"
ADDRESS_ALIKE = f"({MOST_WORDS} or {CLOSE_TEXT})"

COMPARISONS: list[dict[str, Any]] = [
    {
        "output_column_name": "forename",
        "comparison_levels": [
            _null("forename"),
            _level("l.forename = r.forename", "exact",
                   tf_adjustment_column="forename", tf_adjustment_weight=1.0),
            _level("list_contains(l.forename_variants, r.forename)", "known nickname"),
            _jaro_winkler("forename", 0.92),
            _jaro_winkler("forename", 0.80),
            _swapped(counted=True),
            # scored in this comparison only, so the one word counts once
            _level("l.forename = r.surname or r.forename = l.surname",
                   "one name in the other's place"),
            _level("left(l.forename, 1) = left(r.forename, 1) "
                   "and (length(l.forename) = 1 or length(r.forename) = 1)", "initial"),
            _else(),
        ],
    },
    {
        "output_column_name": "surname",
        "comparison_levels": [
            _null("surname"),
            _level("l.surname = r.surname", "exact",
                   tf_adjustment_column="surname", tf_adjustment_weight=1.0),
            _jaro_winkler("surname", 0.92),
            _level("len(list_intersect(l.surname_parts, r.surname_parts)) > 0",
                   "one part of a double-barrelled name"),
            _jaro_winkler("surname", 0.80),
            _swapped(counted=False),
            _else(),
        ],
    },
    {
        "output_column_name": "dob",
        "comparison_levels": [
            _null("dob"),
            _level("l.dob = r.dob", "exact"),
            _level("l.dob_digits = r.dob_swapped", "day and month swapped"),
            # a decade digit slips across a century too: 2008 keyed as 98 is 1998
            _level("damerau_levenshtein(l.dob_digits, r.dob_digits) = 1 "
                   "or (abs(l.dob_year - r.dob_year) = 10 and l.dob_month = r.dob_month "
                   "and l.dob_day = r.dob_day)", "one digit"),
            _level("l.dob_year = r.dob_year", "year only"),
            _else(),
        ],
    },
    {
        # One comparison for where the person lives: postcode and address measure the
        # same thing, and scoring them apart would count one agreement twice. The address
        # is compared as its number and street, then as its words (street and town) or
        # those words run together (ADDRESS_ALIKE): a street run into the next word
        # ("FRANKSKPLACE") or a town misspelt still shares most of them, or most of their
        # letters, where there is no postcode to say so.
        "output_column_name": "location",
        "comparison_levels": [
            _level("(l.postcode is null and l.street is null) "
                   "or (r.postcode is null and r.street is null)", "missing", **{NULL: True}),
            _level(f"{SAME_BUILDING} and l.postcode = r.postcode",
                   "same address and postcode"),
            _level(f"{SAME_BUILDING} and jaro_winkler_similarity(l.street, r.street) >= 0.9",
                   "same address, postcode differs or missing"),
            _level(f"{SAME_BUILDING} and {ADDRESS_ALIKE}",
                   "same number, street and town alike"),
            _level("l.postcode = r.postcode", "same postcode"),
            _level("jaro_winkler_similarity(l.street, r.street) >= 0.9",
                   "same street, another number"),
            _level(ADDRESS_ALIKE, "street and town alike, another number"),
            _level("l.postcode_sector = r.postcode_sector", "same postcode sector"),
            _level("l.postcode_district = r.postcode_district", "same postcode district"),
            _else(),
        ],
    },
]

# Each rule is one way a true pair can still be found while other fields disagree; their
# union bounds the comparisons to people alike on a date of birth or a name. Every rule
# holds a date of birth, a full name or a place: a rule on a surname and a birth year
# alone grows with the square of the population (6 million pairs at 50,000 households,
# 2.5 billion at a million).
#
# A shared address alone brings every pair of a household's members, which another rule
# finds whenever they could be one person; so a rule on an address also asks for
# forenames that could be one person's (the same initial, a known nickname, a name swapped
# with the surname, or one missing) or the same birth year (or one missing), which a
# household's members seldom share. Measured in docs/decisions.md, "Blocking".
ALIKE = (
    "(left(l.forename, 1) = left(r.forename, 1) "
    "or list_contains(l.forename_variants, r.forename) "
    "or list_contains(r.forename_variants, l.forename) "
    "or jaro_winkler_similarity(l.forename, r.surname) >= 0.92 "
    "or jaro_winkler_similarity(r.forename, l.surname) >= 0.92 "
    "or l.forename is null or r.forename is null "
    "or l.dob_year = r.dob_year or l.dob is null or r.dob is null)")
SAME_NAME = "l.forename = r.forename and l.surname = r.surname"
BLOCKING_RULES = [
    "l.dob = r.dob and l.surname = r.surname",
    "l.dob = r.dob and l.forename = r.forename",
    "l.dob = r.dob and l.postcode = r.postcode",
    # a full name and a date of birth two of whose parts agree, or day and month swapped:
    # a name and a birth year alone grows with the square of the population
    f"{SAME_NAME} and l.dob_year = r.dob_year and l.dob_month = r.dob_month",
    f"{SAME_NAME} and l.dob_year = r.dob_year and l.dob_day = r.dob_day",
    f"{SAME_NAME} and l.dob_month = r.dob_month and l.dob_day = r.dob_day",
    f"{SAME_NAME} and l.dob_digits = r.dob_swapped",
    # a full name with the date of birth missing on one side: the name is all there is
    f"{SAME_NAME} and l.dob is null",
    f"{SAME_NAME} and r.dob is null",
    "l.forename = r.forename and l.postcode = r.postcode",
    "l.dob_digits = r.dob_swapped and l.postcode_district = r.postcode_district",
    f"l.postcode = r.postcode and l.house_number = r.house_number and {ALIKE}",
    # street names repeat from town to town: street rules stay within a postcode district
    "l.street = r.street and l.house_number = r.house_number "
    f"and l.postcode_district = r.postcode_district and {ALIKE}",
    "l.dob = r.dob and l.forename = r.surname",
    "l.dob = r.dob and l.surname = r.forename",
    f"l.surname = r.surname and l.street = r.street and l.postcode_district = r.postcode_district "
    f"and {ALIKE}",
]

# Where most identities carry no postcode (sources that give a name, a date of birth and
# an address line only), the rules above lose their places: a true pair whose date of
# birth and a name both disagree is found only by the address line. These rules find it
# by the street's first letters (a misspelt street type, "PRIDHAMSTREET", or the next
# word run into the street still share them) with the house number or a name's start, and
# by a date of birth with the start of a name, the street or the number. They join only
# when most identities have no postcode: among a postcoded borough's few unpostcoded
# records they compared 9.5 million pairs at 50,000 households (36 a profile, against
# 0.73), nearly all of one household or one surname on streets of one prefix, while the
# same people's postcoded records already find each other (docs/decisions.md, "Blocking
# without postcodes").
STREET_START = "left(l.street, 4) = left(r.street, 4)"
ADDRESS_LINE_RULES = [
    f"l.house_number = r.house_number and {STREET_START} and {ALIKE}",
    f"{STREET_START} and left(l.surname, 3) = left(r.surname, 3)",
    f"{STREET_START} and l.forename = r.forename",
    "l.dob = r.dob and left(l.surname, 2) = left(r.surname, 2)",
    "l.dob = r.dob and left(l.forename, 1) = left(r.forename, 1)",
    f"l.dob = r.dob and {STREET_START}",
    "l.dob = r.dob and l.house_number = r.house_number",
    # forename and surname the wrong way round, either keyed with a slip
    "left(l.forename, 3) = left(r.surname, 3) and left(l.surname, 3) = left(r.forename, 3)",
    # the house number with a name and the other's initial, or with most of a date of
    # birth: the street written another way ("31 APPLEGLEN, JULIUS STREET") shares
    # nothing else
    "l.house_number = r.house_number and l.forename = r.forename "
    "and left(l.surname, 1) = left(r.surname, 1)",
    "l.house_number = r.house_number and l.surname = r.surname "
    "and left(l.forename, 1) = left(r.forename, 1)",
    "l.house_number = r.house_number and l.dob_year = r.dob_year "
    "and l.dob_month = r.dob_month",
]
# ... and one more for a true pair whose street was rewritten too ("STUDLEY STEET, ROSE
# AVLE" and "STUDLEY STREET, ROSE VATE"; "8 FAWKNER STREET, EMERALD AGRIGULTURAL COLLEGE"
# and "8 EMERALD AGRIGLUTURAL COLLEGE, FAWKNER STREET"): a rare word of the address in
# common (of four letters or more, in at most RARE_WORD_PROFILES identities: a house
# name, a rare street or town) with the initial of a name or the birth year. The cap
# bounds the rule's pairs: at most 190 a word (20 × 19 / 2), whatever the population.
# splink joins it on the words one by one (EXPLODED).
RARE_WORD_PROFILES = 20
RARE_WORD_SHARED = "len(list_intersect(l.rare_words, r.rare_words)) > 0"
RARE_WORD_ALIKE = ("(left(l.forename, 1) = left(r.forename, 1) "
                   "or left(l.surname, 1) = left(r.surname, 1) or l.dob_year = r.dob_year)")
RARE_WORD_RULE = f"{RARE_WORD_SHARED} and {RARE_WORD_ALIKE}"
EXPLODED = {RARE_WORD_RULE: (f"l.rare_words = r.rare_words and {RARE_WORD_ALIKE}",
                             ["rare_words"])}
# The share of identities without a postcode from which ADDRESS_LINE_RULES join.
ADDRESS_LINE_FROM = 0.5


def blocking_rules(share_without_postcode: float) -> list[str]:
    """The rules for a population of which ``share_without_postcode`` has no postcode,
    each a condition on two profiles ``l`` and ``r`` (``rare_words`` from
    :func:`with_rare_words` where the address-line rules join). The rare-word rule comes
    last: splink leaves out of each rule the pairs of the rules before it, and writes an
    exploded rule's part of that as false, so a rule after it would bring its pairs
    again."""
    return BLOCKING_RULES + ([*ADDRESS_LINE_RULES, RARE_WORD_RULE] if share_without_postcode
                             >= ADDRESS_LINE_FROM else [])


def with_rare_words(con: duckdb.DuckDBPyConnection, source: str, target: str,
                    temp: bool = False) -> None:
    """``target``: ``source``'s profiles in ``unique_id`` order with ``rare_words``, their
    address words of four letters or more that at least two and at most
    RARE_WORD_PROFILES profiles hold (sorted; null when none). ``target`` may be
    ``source``."""
    con.execute(f"""
        create or replace {"temp " if temp else ""}table {target} as
        with words as (
            select distinct unique_id, unnest(address_words) as word from {source}
        ),
        rare as (
            select word from words where length(word) >= 4
            group by word having count(*) between 2 and $cap
        ),
        rare_words as (
            select unique_id, list(word order by word) as rare_words
            from words semi join rare using (word)
            group by unique_id
        )
        select p.*, w.rare_words
        from {source} as p left join rare_words as w using (unique_id)
        order by p.unique_id""", {"cap": RARE_WORD_PROFILES})


def uses_rare_words(rules: list[str], stored: dict[str, Any] | None) -> bool:
    """Whether the rules to block by, or a stored model's, join on ``rare_words``."""
    stored_rules = (stored or {}).get("blocking_rules_to_generate_predictions", [])
    return RARE_WORD_RULE in rules if stored is None else any(
        "rare_words" in (rule.get("arrays_to_explode") or [])
        for rule in stored_rules if isinstance(rule, dict))


def share_without_postcode(con: duckdb.DuckDBPyConnection, table: str) -> float:
    """The share of ``table``'s identities (profiles) that have no postcode."""
    (share,) = con.execute(f"select coalesce(avg(case when postcode is null then 1.0 else 0 "
                           f"end), 0) from {table}").fetchone()
    return float(share)


# Expectation maximisation needs a population to separate matches from non-matches.
MIN_EM_PROFILES = 500

# Pairs that are almost certainly one person, for the prior. Their recall (the share of
# true pairs they find) is measured on the identifier-labelled pairs where there are
# enough; otherwise it is assumed, and expectation maximisation re-estimates the prior.
PRIOR_RULES = ["l.forename = r.forename and l.surname = r.surname and l.dob = r.dob"]
PRIOR_RECALL = 0.7

# Expectation maximisation (used when too few identifier-labelled pairs exist): one pass
# blocked on the date of birth estimates the names and addresses, one blocked on the
# names estimates the date of birth.
EM_BLOCKING_RULES = ["l.dob = r.dob", "l.forename = r.forename and l.surname = r.surname"]

# Each comparison's share of the match weight (log2 Bayes factors), for the review queue;
# the forename's includes its term-frequency adjustment (the surname's is kept apart).
WEIGHT_COLUMNS = ["mw_forename", "mw_surname", "mw_tf_adj_surname", "mw_dob", "mw_location"]
WEIGHT_SQL = {"mw_forename": "mw_forename + mw_tf_adj_forename"}
EMPTY = pa.schema([("unique_id_l", pa.string()), ("unique_id_r", pa.string()),
                   ("match_weight", pa.float64()), ("match_probability", pa.float64()),
                   *((c, pa.float64()) for c in WEIGHT_COLUMNS)])


def _splink_rule(rule: str) -> str | dict[str, Any]:
    """A blocking rule as splink takes it: within different clusters only, and joined on
    an array's items one by one where :data:`EXPLODED` says so."""
    within = " and l.cluster_id <> r.cluster_id"
    if rule in EXPLODED:
        condition, arrays = EXPLODED[rule]
        return {"blocking_rule": condition + within, "arrays_to_explode": arrays}
    return rule + within


def settings(rules: list[str]) -> SettingsCreator:
    """The model's structure, blocking by ``rules``; its parameters are estimated on each
    run's data."""
    return SettingsCreator.from_path_or_dict({
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": COMPARISONS,
        # profiles of one cluster are one person already: never compared
        "blocking_rules_to_generate_predictions": [_splink_rule(rule) for rule in rules],
        "retain_intermediate_calculation_columns": True,
        "retain_matching_columns": False,
        "additional_columns_to_retain": ["cluster_id"],
    })


def n_label_pairs(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Pairs of profiles sharing a source identifier (the labelled matches)."""
    (n,) = con.execute(f"""select coalesce(sum(n * (n - 1) / 2), 0) from (
        select count(*) as n from {table} where key_label is not null group by key_label)"""
    ).fetchone()
    return int(n)


def prior_recall(con: duckdb.DuckDBPyConnection) -> float:
    """Share of identifier-labelled pairs that the prior rules find."""
    (found, total) = con.execute(f"""select count(*) filter (where {PRIOR_RULES[0]}), count(*)
        from profiles as l join profiles as r
            on l.key_label = r.key_label and l.unique_id < r.unique_id""").fetchone()
    return min(max(found / total, 0.05), 1.0)


def with_unseen_levels(model: dict[str, Any], n_labels: int, n_random: int) -> dict[str, Any]:
    """The trained model with a value for every level the samples never showed.

    A level no labelled pair reached gets m = 1 / (2 × labelled pairs), and one no random
    pair reached gets u = 1 / (2 × sampled pairs): rarer than anything seen, but not
    impossible, so an unusual pair is scored instead of failing or being left unweighted.
    """
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get(NULL)]
        for key, floor in (("m_probability", 1 / (2 * n_labels)),
                           ("u_probability", 1 / (2 * n_random))):
            for lv in levels:
                if lv.get(key) is None:
                    lv[key] = floor
            total = sum(lv[key] for lv in levels)
            for lv in levels:
                lv[key] /= total
    return model


def trainable(n_prior: int, n_labels: int, n_profiles: int, config: Linkage) -> bool:
    """Whether the model can be trained: some pairs for the prior, and enough labelled
    pairs for m, or failing those enough identities for expectation maximisation."""
    return n_prior > 0 and (n_labels >= config.min_label_pairs
                            or n_profiles >= MIN_EM_PROFILES)


def score(profiles: pa.Table | pa.RecordBatchReader, config: Linkage,
          temp_directory: Path | None = None, stored: dict[str, Any] | None = None
          ) -> tuple[pa.Table, dict[str, Any]]:
    """Train the model on ``profiles`` and score the blocked pairs of different clusters;
    or, given a ``stored`` model (splink's JSON of an earlier run), score with it as it
    is, its blocking rules included, to reproduce that run's decisions.

    ``profiles`` may be a stream of record batches, copied in as it is read: a region's
    profiles are over a gigabyte in Arrow, and held while the model ran they were that
    much of the run's peak memory.

    Returns the scored pairs at or above the review threshold, and a summary: how m was
    estimated (or that the model was stored), the labelled pairs, profiles and blocking
    rules, and the model used (``model``: splink's JSON, parameters only, no records).
    """
    con = duckdb.connect()
    try:
        if temp_directory:
            configure(con, temp_directory)
        con.register("__profiles", profiles)
        con.execute("create table profiles as select * from __profiles order by unique_id")
        con.unregister("__profiles")
        labels = n_label_pairs(con, "profiles")
        rules = blocking_rules(share_without_postcode(con, "profiles"))
        if uses_rare_words(rules, stored):
            with_rare_words(con, "profiles", "profiles")
        (n_profiles, n_prior) = con.execute(f"""select (select count(*) from profiles),
            (select count(*) from profiles as l join profiles as r
                on {PRIOR_RULES[0]} and l.unique_id < r.unique_id)""").fetchone()
        summary = {"label_pairs": labels, "n_profiles": n_profiles, "model": None,
                   "n_blocking_rules": len(rules)}
        db_api = DuckDBAPI(connection=con)
        if stored is not None:
            linker = Linker(db_api.register("profiles"), stored, log_level=logging.WARNING)
            summary |= {"m_from": "stored model", "n_blocking_rules":
                        len(stored.get("blocking_rules_to_generate_predictions", []))}
        elif not trainable(n_prior, labels, n_profiles, config):
            return EMPTY.empty_table(), summary | {"m_from": "not trained (too little data)"}
        else:
            linker, summary["m_from"] = train(con, db_api, rules, labels, config)
        summary["model"] = linker.misc.save_model_to_json()
        predictions = linker.inference.predict(
            threshold_match_probability=config.review_probability, warning_mode="never")
        scores = con.execute(f"""
            select unique_id_l, unique_id_r,
                round(match_weight, 6) as match_weight,
                round(match_probability, 6) as match_probability,
                {", ".join(f"round({WEIGHT_SQL.get(c, c)}, 3) as {c}" for c in WEIGHT_COLUMNS)}
            from {predictions.physical_name}
            where cluster_id_l <> cluster_id_r
            order by unique_id_l, unique_id_r""").to_arrow_table()
        return scores, summary
    finally:
        con.close()


def train(con: duckdb.DuckDBPyConnection, db_api: DuckDBAPI, rules: list[str], labels: int,
          config: Linkage) -> tuple[Linker, str]:
    """A linker over the ``profiles`` table in ``con`` with its parameters estimated on
    them (see the module's docstring), and how m was estimated."""
    linker = Linker(db_api.register("profiles"), settings(rules), log_level=logging.WARNING)
    training = linker.training
    use_labels = labels >= config.min_label_pairs
    training.estimate_probability_two_random_records_match(
        PRIOR_RULES, recall=prior_recall(con) if use_labels else PRIOR_RECALL)
    training.estimate_u_using_random_sampling(max_pairs=config.u_sample_pairs,
                                              seed=config.seed)
    if use_labels:
        training.estimate_m_from_label_column("key_label")
        model = with_unseen_levels(linker.misc.save_model_to_json(), labels,
                                   config.u_sample_pairs)
        return (Linker(db_api.register("profiles"), model, log_level=logging.WARNING),
                "identifier-labelled pairs")
    for rule in EM_BLOCKING_RULES:
        training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True,
            populate_probability_two_random_records_match_from_trained_values=True)
    return linker, "expectation maximisation"
