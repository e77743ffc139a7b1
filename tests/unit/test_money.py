"""Money: examples of every rule, then properties (hypothesis) over many generated cases."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fintech_core.domain.currency import currency_exponents, exponent
from fintech_core.domain.errors import AmountTooPrecise, CurrencyMismatch, InvalidAmount
from fintech_core.domain.money import Money
from fintech_core.domain.rounding import Rounding

CURRENCIES = sorted(currency_exponents())
BIG = 10**15


@pytest.mark.parametrize(("text", "currency", "minor"), [
    ("10.5", "EUR", 1050), ("10.50", "EUR", 1050), ("0.01", "EUR", 1), ("-3", "EUR", -300),
    ("7", "JPY", 7), ("1.234", "KWD", 1234), ("0", "USD", 0), ("00012.3", "USD", 1230),
])
def test_parse(text: str, currency: str, minor: int) -> None:
    assert Money.parse(text, currency) == Money(minor, currency)


@pytest.mark.parametrize(("text", "currency"), [
    ("10.555", "EUR"), ("0.001", "USD"), ("7.0", "JPY"), ("1.2345", "KWD"), ("10.500", "EUR")])
def test_more_places_than_the_currency_has_is_refused_never_rounded(text: str,
                                                                   currency: str) -> None:
    with pytest.raises(AmountTooPrecise, match=f"{currency} has {exponent(currency)}"):
        Money.parse(text, currency)


@pytest.mark.parametrize("text", ["", " 1", "1 ", "1e3", "1.", ".5", "+1", "1,5", "NaN", "½", "١٢"])
def test_only_plain_decimals_parse(text: str) -> None:
    with pytest.raises(InvalidAmount):
        Money.parse(text, "EUR")


@pytest.mark.parametrize("bad", [1.5, 0.1, True, Decimal("1"), "100", None])
def test_minor_units_must_be_an_int_never_a_float(bad: object) -> None:
    with pytest.raises(TypeError):
        Money(bad, "EUR")  # type: ignore[arg-type]


def test_parse_refuses_a_float() -> None:
    with pytest.raises(TypeError, match="string"):
        Money.parse(0.1, "EUR")  # type: ignore[arg-type]


def test_the_lost_cent_floats_lose_it_minor_units_do_not() -> None:
    floats = sum([0.1] * 10)
    assert floats != 1.0  # 0.9999999999999999
    cents = sum((Money.parse("0.10", "EUR") for _ in range(10)), Money.zero("EUR"))
    assert cents == Money.parse("1.00", "EUR") and str(cents) == "1.00 EUR"


def test_currencies_do_not_mix() -> None:
    eur, usd = Money(100, "EUR"), Money(100, "USD")
    for op in (lambda: eur + usd, lambda: eur - usd, lambda: eur < usd, lambda: eur >= usd):
        with pytest.raises(CurrencyMismatch):
            op()
    assert eur != usd  # equality is defined: different currencies are different amounts


def test_multiplying_by_a_float_is_refused() -> None:
    with pytest.raises(TypeError, match="apply_rate"):
        Money(100, "EUR") * 1.5  # type: ignore[operator]
    assert Money(100, "EUR") * 3 == Money(300, "EUR") == 3 * Money(100, "EUR")


def test_formatting_uses_the_currency_exponent() -> None:
    assert str(Money(-5, "EUR")) == "-0.05 EUR"
    assert str(Money(1234, "KWD")) == "1.234 KWD"
    assert str(Money(1234, "JPY")) == "1234 JPY"
    assert Money(1050, "EUR").to_decimal() == Decimal("10.50")


def test_allocation_examples() -> None:
    assert [m.minor for m in Money(100, "EUR").split(3)] == [34, 33, 33]
    assert [m.minor for m in Money(-100, "EUR").split(3)] == [-34, -33, -33]
    assert [m.minor for m in Money(5, "EUR").allocate([70, 30])] == [4, 1]  # 3.5 / 1.5
    assert [m.minor for m in Money(10, "EUR").allocate([0, 1, 1])] == [0, 5, 5]
    for bad in ([], [0, 0], [-1, 2], [1.5, 1]):
        with pytest.raises(ValueError):
            Money(10, "EUR").allocate(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("rounding", "expected"), [
    (Rounding.HALF_EVEN, [2, 2, 4, -2]), (Rounding.HALF_UP, [3, 2, 4, -3]),
    (Rounding.DOWN, [2, 2, 3, -2]), (Rounding.UP, [3, 3, 4, -3]),
    (Rounding.FLOOR, [2, 2, 3, -3]), (Rounding.CEILING, [3, 3, 4, -2]),
])
def test_rates_round_once_with_the_named_mode(rounding: Rounding, expected: list[int]) -> None:
    # 25 x 0.1 = 2.5 ; 21 x 0.1 = 2.1 ; 35 x 0.1 = 3.5 ; -25 x 0.1 = -2.5
    got = [Money(m, "EUR").apply_rate("0.1", rounding).minor for m in (25, 21, 35, -25)]
    assert got == expected


def test_a_rate_must_not_be_a_float() -> None:
    with pytest.raises(TypeError, match="float"):
        Money(100, "EUR").apply_rate(0.015, Rounding.HALF_EVEN)  # type: ignore[arg-type]
    assert Money(1050, "EUR").apply_rate(Decimal("0.015"), Rounding.HALF_EVEN).minor == 16


# --- properties ------------------------------------------------------------------------------

amounts = st.integers(min_value=-BIG, max_value=BIG)
currencies = st.sampled_from(CURRENCIES)


@given(amounts, currencies)
def test_format_then_parse_round_trips(minor: int, currency: str) -> None:
    money = Money(minor, currency)
    assert Money.parse(money.amount_str(), currency) == money
    assert Decimal(money.amount_str()) == money.to_decimal()


@given(st.decimals(allow_nan=False, allow_infinity=False, places=6,
                   min_value=-BIG, max_value=BIG), currencies)
def test_parse_is_exact_or_refuses(value: Decimal, currency: str) -> None:
    text = f"{value:f}"
    try:
        parsed = Money.parse(text, currency)
    except AmountTooPrecise:
        assert -value.as_tuple().exponent > exponent(currency)  # type: ignore[operator]
        return
    assert parsed.to_decimal() == value  # never rounded


@given(amounts, amounts, amounts, currencies)
def test_addition_is_exact_associative_and_invertible(a: int, b: int, c: int,
                                                      currency: str) -> None:
    x, y, z = Money(a, currency), Money(b, currency), Money(c, currency)
    assert (x + y) + z == x + (y + z)
    assert x + y - y == x
    assert x + (-x) == Money.zero(currency)


@given(amounts, st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20)
       .filter(lambda r: sum(r) > 0), currencies)
def test_allocation_never_loses_or_creates_a_unit(minor: int, ratios: list[int],
                                                  currency: str) -> None:
    parts = Money(minor, currency).allocate(ratios)
    assert sum(p.minor for p in parts) == minor
    total = sum(ratios)
    for part, ratio in zip(parts, ratios, strict=True):
        exact = Decimal(minor) * ratio / total
        assert abs(Decimal(part.minor) - exact) < 1  # each part within one unit of its share
        if ratio == 0:
            assert part.minor == 0


@given(amounts, st.integers(min_value=1, max_value=50))
def test_split_parts_differ_by_at_most_one_unit(minor: int, n: int) -> None:
    parts = [p.minor for p in Money(minor, "EUR").split(n)]
    assert sum(parts) == minor and max(parts) - min(parts) <= 1


@given(amounts, st.decimals(min_value=-100, max_value=100, places=4, allow_nan=False),
       st.sampled_from(list(Rounding)))
def test_apply_rate_is_within_one_unit_of_the_exact_product(minor: int, rate: Decimal,
                                                           rounding: Rounding) -> None:
    got = Money(minor, "EUR").apply_rate(rate, rounding).minor
    assert abs(Decimal(got) - Decimal(minor) * rate) < 1
