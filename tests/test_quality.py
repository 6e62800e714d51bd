"""Quality against truth (``synthetic.quality``): which truth household a family is."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pyarrow as pa

from synthetic import quality


def write(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_a_family_split_evenly_between_households_is_the_smallest_household_id(tmp_path):
    """F1's members are two of H9 and two of H2, in that order: a tie, to H2 (which
    qualifies), whatever order the members are met in; F2 is three of H5 and one of H1:
    the majority, H5, though H1 sorts first."""
    members = {"F1": [("p1", "H9"), ("p2", "H9"), ("p3", "H2"), ("p4", "H2")],
               "F2": [("p5", "H5"), ("p6", "H5"), ("p7", "H5"), ("p8", "H1")]}
    truth = tmp_path / "truth"
    truth.mkdir()
    people = [(f, p, h) for f, ms in members.items() for p, h in ms]
    write(truth / "records.csv", [{"extract": "asb", "source_row": i, "person_id": "T" + p}
                                  for i, (_, p, _) in enumerate(people, start=1)])
    write(truth / "persons.csv", [{"person_id": "T" + p, "household_id": h}
                                  for _, p, h in people])
    flags = {"crime_asb": "true", "education": "false", "work": "false",
             "local_filter": "false"}
    write(truth / "households.csv",
          [{"household_id": h, **flags, "qualifies": str(h in ("H2", "H5")).lower()}
           for h in ("H1", "H2", "H5", "H9")])
    con = duckdb.connect()
    tables = {
        "person_records": pa.table({"person_id": [p for _, p, _ in people],
                                    "extract": ["asb"] * len(people),
                                    "source_row": list(range(1, len(people) + 1))}),
        "family_members": pa.table({"family_id": [f for f, _, _ in people],
                                    "person_id": [p for _, p, _ in people]}),
        "cohort": pa.table({"family_id": ["F1", "F2"], "crime_asb": [True, True],
                            **{f: [False, False] for f in ("education", "work",
                                                           "local_filter")}}),
    }
    for name, table in tables.items():
        con.register("__rows", table)
        con.execute(f"create table {name} as select * from __rows")
        con.unregister("__rows")

    scores = quality.score(con, truth)

    assert con.execute("select family_id, household_id from family_truth "
                       "order by 1").fetchall() == [("F1", "H2"), ("F2", "H5")]
    assert (scores.precision, scores.recall) == (1.0, 1.0)
    assert scores.flag_mismatches == []
