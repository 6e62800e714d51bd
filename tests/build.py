"""Build small extract folders for tests: rows as dicts, written as the agencies would."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from stdnum.gb import upn as stdnum_upn

from pipelines import runs, steps
from schemas import EXTRACTS
from synthetic import borough

AS_OF = dt.date(2025, 9, 30)


def columns_of(name: str) -> list[str]:
    return list(EXTRACTS[name].columns)


def make_upn(n: int) -> str:
    body = f"80112{n:07d}"
    return stdnum_upn.calc_check_digit(body) + body


class Extracts:
    """A folder of extracts: ``add(name, **row)`` then ``write()``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows: dict[str, list[dict[str, Any]]] = {
            name: [] for name, spec in EXTRACTS.items() if spec.required}
        self.encodings: dict[str, str] = {}

    def add(self, name: str, **row: Any) -> dict[str, Any]:
        self.rows.setdefault(name, []).append(row)
        return row

    def write(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, rows in self.rows.items():
            cols = columns_of(name)
            with (self.folder / f"{name}.csv").open(
                    "w", newline="", encoding=self.encodings.get(name, "utf-8")) as f:
                writer = csv.DictWriter(f, fieldnames=cols, extrasaction="raise")
                writer.writeheader()
                for row in rows:
                    writer.writerow({c: _text(row.get(c)) for c in cols})
        return self.folder


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def person(forename: str, surname: str, dob: dt.date | str, address: str,
           postcode: str) -> dict[str, Any]:
    """The person columns of one record."""
    return {"forename": forename, "surname": surname, "date_of_birth": dob,
            "address": address, "postcode": postcode, "gender": "", "uprn": ""}


def screen(folder: Path, out: Path, as_of: dt.date = AS_OF, criteria: Path | None = None,
           db: Path | None = None) -> tuple[runs.Run, dict[str, int]]:
    """Run the whole screening without the Prefect engine."""
    run, rules = runs.prepare(folder, as_of.isoformat(), out, db, criteria)
    return run, steps.execute(run, rules)


def letters(n: int) -> str:
    """1 → 'Ab', 2 → 'Ac', …: names must be letters (standardisation drops digits)."""
    out = ""
    n += 26
    while n:
        n, r = divmod(n, 26)
        out = "abcdefghijklmnopqrstuvwxyz"[r] + out
    return out.capitalize()


ADULT_DOB, CHILD_DOB = dt.date(1985, 5, 5), dt.date(2012, 3, 3)


def case_row(n: int, extract: str, who: str, row: dict[str, Any]) -> dict[str, Any]:
    """A row of household ``n``'s ``who`` (adult or child; ``_dob`` in ``row`` makes a
    third member, Robin) for ``extract``, with that person's identity and identifiers."""
    row = dict(row)
    default = ADULT_DOB if who == "adult" else CHILD_DOB
    dob = row.pop("_dob", default)
    forename = ("Alex" if who == "adult" else "Sam") if dob == default else "Robin"
    p = person(forename, "Case" + letters(n), dob, f"{n} Case Street, Testtown", "CH41 1AA")
    key = {"school_attendance": {"upn": make_upn(n * 10 + (forename == "Robin"))},
           "school_exclusions": {"upn": make_upn(n * 10 + (forename == "Robin"))},
           "police_offences": {"police_ref": f"{n:02d}/{n:06d}A"},
           "asb": {"asb_ref": f"ASB{n:05d}{who[0]}"},
           "benefits": {"nino": f"AB{n:06d}C"},
           "employment": {"nino": f"AB{n:06d}C"},
           "local_indicators": {"source_ref": f"LI{n}", "nino": f"AB{n:06d}C"}}[extract]
    if extract in ("school_exclusions", "employment"):
        return {**key, **row}
    if extract == "school_attendance":
        return {**p, **key, "school_urn": "123456", **row}
    return {**p, **row, **key}


def generated(factory: Any, name: str, households: int, seed: int, noise: float) -> Path:
    """A generated borough's extracts (and ``truth/``) in a new temporary folder."""
    folder = factory.mktemp(name) / "extracts"
    borough.generate(folder, households=households, seed=seed, as_of=AS_OF, noise=noise)
    return folder
