"""ISO 4217 currencies and their minor-unit exponents, loaded from data/currencies.csv.

The table is data, not code, so that adding a currency is a one-line change a reviewer can check
against the standard. Exponent = number of decimal digits in the minor unit (USD 2, JPY 0, KWD 3).
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from fintech_core.domain.errors import UnknownCurrency

_TABLE = Path(__file__).resolve().parent.parent / "data" / "currencies.csv"


@cache
def currency_exponents() -> dict[str, int]:
    with _TABLE.open(newline="") as fh:
        return {row["code"]: int(row["exponent"]) for row in csv.DictReader(fh)}


def require_currency(code: str) -> str:
    if code not in currency_exponents():
        raise UnknownCurrency(f"{code!r} is not an ISO 4217 currency this lab knows", currency=code)
    return code


def exponent(code: str) -> int:
    return currency_exponents()[require_currency(code)]
