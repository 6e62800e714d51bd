"""Vectorised value checks shared by the extract models.

Each returns a boolean Series (True = valid) over non-null values; pandera skips nulls.
The same parsers are used to type the values after validation, so a value that passes
a check always converts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from stdnum.gb import upn as stdnum_upn

NINO = r"^(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$"
POSTCODE = r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$"
EARLIEST = pd.Timestamp("1900-01-01")


def parse_dates(values: pd.Series) -> pd.Series:
    """ISO ``YYYY-MM-DD`` or UK ``DD/MM/YYYY`` (never US order); NaT where neither."""
    text = values.astype("string")
    iso = pd.to_datetime(text.where(text.str.match(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$")),
                         format="%Y-%m-%d", errors="coerce")
    uk = pd.to_datetime(text.where(text.str.match(r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$")),
                        format="%d/%m/%Y", errors="coerce")
    return iso.fillna(uk)


# The UPN check letter (DfE): the weighted sum of the last 12 characters' places in this
# alphabet, modulo 23, indexes it again. The local-authority numbers are the ones
# python-stdnum accepts, read through its public API once.
UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ0123456789"
_UPN_PLACE = np.full(256, -1, dtype=np.int64)
_UPN_PLACE[np.frombuffer(UPN_ALPHABET.encode(), dtype=np.uint8)] = np.arange(33)
UPN_LA_NUMBERS = np.array([
    la for la in range(1000)
    if stdnum_upn.is_valid(stdnum_upn.calc_check_digit(f"{la:03d}00000000A") + f"{la:03d}"
                           "00000000A")])


def upn_is_valid(values: pd.Series) -> pd.Series:
    """Whether each UPN's check letter and local-authority number are right (as
    ``stdnum.gb.upn.is_valid``, vectorised: a school census holds millions); NA where
    the value is missing."""
    text = values.astype("string").str.replace(" ", "").str.upper()
    shaped = text.str.fullmatch(r"[A-Z][0-9]{11}[A-Z0-9]").fillna(False).astype(bool)
    valid = pd.Series(False, index=values.index, dtype="boolean")
    if shaped.any():
        chars = np.array(text[shaped].tolist(), dtype="S13").view(np.uint8).reshape(-1, 13)
        places = _UPN_PLACE[chars]
        check = (places[:, 1:] * np.arange(2, 14)).sum(axis=1) % 23
        la = (chars[:, 1:4] - ord("0")) @ np.array([100, 10, 1])
        valid[shaped] = (check == places[:, 0]) & np.isin(la, UPN_LA_NUMBERS)
    return valid.mask(text.isna())


def normalise_postcode(values: pd.Series) -> pd.Series:
    """Upper case, spaces removed: the form the postcode check reads."""
    return values.astype("string").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)


def normalise_nino(values: pd.Series) -> pd.Series:
    """Upper case, spaces removed."""
    return values.astype("string").str.upper().str.replace(r"\s", "", regex=True)


def date() -> pa.Check:
    return pa.Check(lambda s: parse_dates(s).notna(), error="not a date (YYYY-MM-DD or DD/MM/YYYY)")


def plausible_date() -> pa.Check:
    return pa.Check(lambda s: parse_dates(s).fillna(EARLIEST) >= EARLIEST,
                    error="date before 1900")


def not_after(as_of: pd.Timestamp) -> pa.Check:
    return pa.Check(lambda s: parse_dates(s).fillna(as_of) <= as_of,
                    error=f"date after the as-of date {as_of.date().isoformat()}")


def whole_number(maximum: int | None = None) -> pa.Check:
    def check(s: pd.Series) -> pd.Series:
        ok = s.astype("string").str.fullmatch(r"[0-9]{1,9}").fillna(False).astype(bool)
        if maximum is not None:
            ok &= pd.to_numeric(s.where(ok), errors="coerce").fillna(0) <= maximum
        return ok
    limit = f" up to {maximum}" if maximum is not None else ""
    return pa.Check(check, error=f"not a whole number ≥ 0{limit}")


def grid_metres(maximum: int) -> pa.Check:
    """A British National Grid coordinate in metres, 0 to ``maximum`` (700,000 east,
    1,300,000 north), whole or with decimals as LLPG exports write them."""
    def check(s: pd.Series) -> pd.Series:
        text = s.astype("string")
        ok = text.str.fullmatch(r"[0-9]{1,7}(\.[0-9]+)?").fillna(False).astype(bool)
        return ok & (pd.to_numeric(text.where(ok), errors="coerce").fillna(0) <= maximum)
    return pa.Check(check, error=f"not a grid coordinate in metres (0 to {maximum:,})")


def code(allowed: tuple[str, ...]) -> pa.Check:
    return pa.Check(lambda s: s.isin(allowed), error=f"not one of: {', '.join(allowed)}")


def matches(pattern: str, what: str) -> pa.Check:
    return pa.Check(
        lambda s: s.astype("string").str.fullmatch(pattern).fillna(False).astype(bool),
        error=f"not a valid {what}",
    )


def max_length(limit: int) -> pa.Check:
    return pa.Check(lambda s: s.astype("string").str.len() <= limit,
                    error=f"longer than {limit} characters")


def academic_year() -> pa.Check:
    def check(s: pd.Series) -> pd.Series:
        text = s.astype("string")
        text = text.where(text.str.fullmatch(r"[0-9]{4}/[0-9]{2}").fillna(False).astype(bool))
        first = pd.to_numeric(text.str.slice(0, 4), errors="coerce")
        second = pd.to_numeric(text.str.slice(5, 7), errors="coerce")
        return ((first + 1) % 100 == second).fillna(False).astype(bool)
    return pa.Check(check, error="not an academic year like 2024/25")
