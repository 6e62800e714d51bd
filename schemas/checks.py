"""Value checks shared by the extract models, as Polars expressions.

Each check maps a column (its values trimmed, blank as null: ``pipelines.validate``) to
true where the value is valid; a missing value always passes, its column's nullability
decides about it. The same parsers type the values after validation, so a value that
passes a check always converts. Regular expressions are Rust's (no look-around); they
match ASCII digits with ``[0-9]``, never ``\\d``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandera.polars as pa
import polars as pl
from stdnum.gb import upn as stdnum_upn

Test = Callable[[pl.Expr], pl.Expr]

# Two letters, six digits and a suffix A-D; prefixes the format never issues are refused
# apart (the first letter never D, F, I, Q, U or V, the second never D, F, I, O, Q, U or
# V, and seven pairs never used).
NINO = r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$"
NINO_UNUSED_PREFIXES = ("BG", "GB", "NK", "KN", "TN", "NT", "ZZ")
POSTCODE = r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$"
EARLIEST = dt.date(1900, 1, 1)


def column_check(test: Test, error: str,
                 reads: Callable[[str], str] = lambda column: column) -> pa.Check:
    """A pandera check of one column by ``test`` on the column ``reads`` names (the
    column itself, or its parsed dates: :func:`date_check`); a missing value passes."""
    def check(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).is_null()
                                     | test(pl.col(reads(data.key))).fill_null(False))
    return pa.Check(check, error=error)


def parsed(column: str) -> str:
    """The name of the hidden column holding ``column``'s dates as parsed, once, before
    checking (``pipelines.validate.preclean``): its checks and its typing read them."""
    return f"__parsed__{column}"


def date_check(test: Test, error: str) -> pa.Check:
    """A pandera check of a date column by ``test`` on its parsed dates (null where the
    text is no date); a missing value passes."""
    return column_check(test, error, reads=parsed)


def parse_dates(value: pl.Expr) -> pl.Expr:
    """ISO ``YYYY-MM-DD`` or UK ``DD/MM/YYYY`` (never US order); null where neither."""
    iso = pl.when(value.str.contains(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$")).then(value)
    uk = pl.when(value.str.contains(r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$")).then(value)
    return pl.coalesce(iso.str.to_date("%Y-%m-%d", strict=False),
                       uk.str.to_date("%d/%m/%Y", strict=False))


# The UPN check letter (DfE): the weighted sum of the last 12 characters' places in this
# alphabet, modulo 23, indexes it again. The local-authority numbers are the ones
# python-stdnum accepts, read through its public API once.
UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ0123456789"
UPN_PLACES = {c: i for i, c in enumerate(UPN_ALPHABET)}
UPN_LA_NUMBERS = [
    la for la in range(1000)
    if stdnum_upn.is_valid(stdnum_upn.calc_check_digit(f"{la:03d}00000000A") + f"{la:03d}"
                           "00000000A")]


def upn_is_valid(value: pl.Expr) -> pl.Expr:
    """Whether each UPN's check letter and local-authority number are right (as
    ``stdnum.gb.upn.is_valid``, as an expression: a school census holds millions); null
    where the value is missing."""
    text = value.str.replace_all(" ", "", literal=True).str.to_uppercase()
    shaped = text.str.contains(r"^[A-Z][0-9]{11}[A-Z0-9]$")

    def place(i: int) -> pl.Expr:
        return text.str.slice(i, 1).replace_strict(UPN_PLACES, default=-1,
                                                   return_dtype=pl.Int64)
    # the eleven digits after the check letter, read as one number: a digit's place is
    # 23 (after the 23 letters) plus the digit
    digits = text.str.slice(1, 11).cast(pl.Int64, strict=False)
    weighted = pl.sum_horizontal(
        (23 + digits // 10 ** (11 - i) % 10) * (i + 1) for i in range(1, 12))
    check = (weighted + place(12) * 13) % 23
    la = digits // 10**8
    valid = shaped & (check == place(0)) & la.is_in(UPN_LA_NUMBERS)
    return pl.when(value.is_null()).then(None).otherwise(valid.fill_null(False))


def normalise_postcode(value: pl.Expr) -> pl.Expr:
    """Upper case, everything but letters and digits removed: the form the check reads."""
    return value.str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")


def normalise_nino(value: pl.Expr) -> pl.Expr:
    """Upper case, spaces removed."""
    return value.str.to_uppercase().str.replace_all(r"\s", "")


def date() -> pa.Check:
    return date_check(lambda d: d.is_not_null(), "not a date (YYYY-MM-DD or DD/MM/YYYY)")


def plausible_date() -> pa.Check:
    return date_check(lambda d: d.fill_null(EARLIEST) >= EARLIEST, "date before 1900")


def not_after(as_of: dt.date) -> pa.Check:
    return date_check(lambda d: d.fill_null(as_of) <= as_of,
                      f"date after the as-of date {as_of.isoformat()}")


def whole_number(maximum: int | None = None) -> pa.Check:
    def test(v: pl.Expr) -> pl.Expr:
        ok = v.str.contains(r"^[0-9]{1,9}$")
        if maximum is not None:
            ok = ok & (v.cast(pl.Int64, strict=False).fill_null(0) <= maximum)
        return ok
    limit = f" up to {maximum}" if maximum is not None else ""
    return column_check(test, f"not a whole number ≥ 0{limit}")


def grid_metres(maximum: int) -> pa.Check:
    """A British National Grid coordinate in metres, 0 to ``maximum`` (700,000 east,
    1,300,000 north), whole or with decimals as LLPG exports write them."""
    def test(v: pl.Expr) -> pl.Expr:
        return (v.str.contains(r"^[0-9]{1,7}(\.[0-9]+)?$")
                & (v.cast(pl.Float64, strict=False).fill_null(0) <= maximum))
    return column_check(test, f"not a grid coordinate in metres (0 to {maximum:,})")


def code(allowed: tuple[str, ...]) -> pa.Check:
    return column_check(lambda v: v.is_in(allowed), f"not one of: {', '.join(allowed)}")


def matches(pattern: str, what: str) -> pa.Check:
    """The whole value matches ``pattern``."""
    return column_check(lambda v: v.str.contains(f"^(?:{pattern})$"), f"not a valid {what}")


def nino() -> pa.Check:
    return column_check(lambda v: v.str.contains(NINO)
                        & ~v.str.slice(0, 2).is_in(NINO_UNUSED_PREFIXES),
                        "not a valid National Insurance number")


def max_length(limit: int) -> pa.Check:
    return column_check(lambda v: v.str.len_chars() <= limit,
                        f"longer than {limit} characters")


def academic_year() -> pa.Check:
    def test(v: pl.Expr) -> pl.Expr:
        shaped = v.str.contains(r"^[0-9]{4}/[0-9]{2}$")
        first = v.str.slice(0, 4).cast(pl.Int64, strict=False)
        second = v.str.slice(5, 2).cast(pl.Int64, strict=False)
        return shaped & ((first + 1) % 100 == second)
    return column_check(test, "not an academic year like 2024/25")
