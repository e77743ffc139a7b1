"""Money: an integer number of minor units in one ISO 4217 currency.

What is guaranteed, and why it matters for a ledger:
- no float ever gets in: the constructor, the parser and the multiplier refuse floats, because a
  binary float cannot hold 0.10 exactly and the error compounds silently (the "lost cent");
- parsing refuses more decimal places than the currency has (10.005 EUR) instead of rounding:
  a rounding the caller did not ask for is money created or destroyed;
- adding, subtracting or comparing two currencies raises; there is no implicit FX;
- `allocate` / `split` return parts that sum exactly to the whole (largest remainder);
- the one operation that must round, applying a rate (a fee, a tax), takes a named Rounding mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from fintech_core.domain.currency import exponent, require_currency
from fintech_core.domain.errors import AmountTooPrecise, CurrencyMismatch, InvalidAmount
from fintech_core.domain.rounding import Rounding, largest_remainder, scale_exactly

_DECIMAL = re.compile(r"^(-?)([0-9]+)(?:\.([0-9]+))?$")  # ASCII digits only: int() accepts "١٢"


@dataclass(frozen=True, slots=True)
class Money:
    minor: int  # signed: ledger postings use the sign (credit +, debit -)
    currency: str

    def __post_init__(self) -> None:
        if type(self.minor) is not int:  # bool is an int subclass, float is refused outright
            raise TypeError(f"minor units must be an int, got {type(self.minor).__name__}")
        require_currency(self.currency)

    # --- construction -----------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """'10.5' EUR -> 1050 minor units. Refuses '10.555' EUR, '1e3', ' 10', '10.' and floats."""
        if not isinstance(text, str):
            raise TypeError("parse a decimal *string*; a float has already lost the exact value")
        match = _DECIMAL.fullmatch(text)
        if match is None:
            raise InvalidAmount(f"{text!r} is not a plain decimal number like 10.50")
        sign, units, fraction = match.group(1), match.group(2), match.group(3) or ""
        places = exponent(currency)
        if len(fraction) > places:
            raise AmountTooPrecise(
                f"{text} has {len(fraction)} decimal places; {currency} has {places}",
                currency=currency, exponent=places)
        minor = int(units + fraction.ljust(places, "0"))
        return cls(-minor if sign else minor, currency)

    # --- presentation -----------------------------------------------------------------------
    def to_decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-exponent(self.currency))

    def amount_str(self) -> str:
        places = exponent(self.currency)
        digits = str(abs(self.minor)).rjust(places + 1, "0")
        whole, frac = (digits[:-places], digits[-places:]) if places else (digits, "")
        return ("-" if self.minor < 0 else "") + whole + ("." + frac if frac else "")

    def __str__(self) -> str:
        return f"{self.amount_str()} {self.currency}"

    # --- arithmetic -------------------------------------------------------------------------
    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.minor + self._same(other).minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.minor - self._same(other).minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __mul__(self, factor: int) -> Money:
        if type(factor) is not int:
            raise TypeError("multiply by an int; for a rate use apply_rate(rate, Rounding.X)")
        return Money(self.minor * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.minor < self._same(other).minor

    def __le__(self, other: Money) -> bool:
        return self.minor <= self._same(other).minor

    def __gt__(self, other: Money) -> bool:
        return self.minor > self._same(other).minor

    def __ge__(self, other: Money) -> bool:
        return self.minor >= self._same(other).minor

    def is_zero(self) -> bool:
        return self.minor == 0

    # --- rounding and allocation ------------------------------------------------------------
    def apply_rate(self, rate: Decimal | str | int, rounding: Rounding) -> Money:
        """self x rate, rounded once to a minor unit with the named mode (e.g. a 1.5% fee)."""
        return Money(scale_exactly(self.minor, rate, rounding), self.currency)

    def allocate(self, ratios: list[int] | tuple[int, ...]) -> list[Money]:
        return [Money(part, self.currency) for part in largest_remainder(self.minor, ratios)]

    def split(self, parts: int) -> list[Money]:
        """Equal shares; the first `minor % parts` shares get one extra unit."""
        return self.allocate([1] * parts)
