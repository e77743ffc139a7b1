"""Exact integer arithmetic for money that must be scaled or shared out.

`scale_exactly` computes minor x rate *exactly* (a Decimal context with enough digits and the
Inexact trap on, so an accidental precision loss raises instead of rounding), then rounds once,
with a mode the caller names. `largest_remainder` shares an amount by integer ratios so that the
parts always sum to the whole: the units lost to truncation are handed back one by one.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from enum import StrEnum


class Rounding(StrEnum):
    HALF_EVEN = decimal.ROUND_HALF_EVEN  # banker's rounding: no bias over many operations
    HALF_UP = decimal.ROUND_HALF_UP  # schoolbook: 0.5 goes away from zero
    DOWN = decimal.ROUND_DOWN  # toward zero (truncate)
    UP = decimal.ROUND_UP  # away from zero
    FLOOR = decimal.ROUND_FLOOR  # toward -infinity: never charge a fee above the rate
    CEILING = decimal.ROUND_CEILING  # toward +infinity


def _exact_decimal(rate: Decimal | str | int) -> Decimal:
    if isinstance(rate, bool) or not isinstance(rate, Decimal | str | int):
        raise TypeError(f"a rate must be a Decimal, a decimal string or an int, not "
                        f"{type(rate).__name__} (a float has already lost the exact value)")
    value = Decimal(rate)
    if not value.is_finite():
        raise ValueError(f"rate {rate!r} is not a finite number")
    return value


def scale_exactly(minor: int, rate: Decimal | str | int, rounding: Rounding) -> int:
    value = _exact_decimal(rate)
    digits = len(str(abs(minor))) + len(value.as_tuple().digits) + 2
    context = decimal.Context(prec=digits, rounding=rounding.value, traps=[decimal.Inexact])
    product = context.multiply(Decimal(minor), value)  # exact: Inexact would raise
    return int(product.to_integral_value(rounding=rounding.value))


def largest_remainder(total: int, ratios: list[int] | tuple[int, ...]) -> list[int]:
    """Split `total` minor units by integer `ratios`; sum(result) == total, always.

    Each part gets floor(total x ratio / sum); the units left over go, one each, to the parts
    with the largest remainders (earlier parts win ties), so no part is off by more than one unit
    from its exact share. A negative total is shared as its absolute value, then negated.
    """
    if not ratios:
        raise ValueError("allocate needs at least one ratio")
    if any(type(r) is not int or r < 0 for r in ratios):
        raise ValueError("ratios must be non-negative ints")
    weight = sum(ratios)
    if weight == 0:
        raise ValueError("at least one ratio must be positive")
    sign, amount = (-1, -total) if total < 0 else (1, total)
    shares = [divmod(amount * r, weight) for r in ratios]
    parts = [q for q, _ in shares]
    leftover = amount - sum(parts)
    by_remainder = sorted(range(len(ratios)), key=lambda i: -shares[i][1])
    for i in by_remainder[:leftover]:
        parts[i] += 1
    return [sign * p for p in parts]
