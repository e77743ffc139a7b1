"""The translated conditions (fraud/compiled.py) answer exactly as rule-engine's `rule.matches`:
every rule of v1 and v2, the lab-6 solution's rule, and conditions exercising each operator,
on random Features (including values of the wrong type, NaN, huge ints and 28-digit rounding);
a node the translator does not cover keeps the library's evaluation."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest
import rule_engine
from hypothesis import given, settings
from hypothesis import strategies as st

from fintech_core.fraud.compiled import Untranslatable, compile_condition, translate
from fintech_core.fraud.model import Features
from fintech_core.fraud.rules import RuleSet, evaluation_context, features_context, load_ruleset

OPERATORS = [
    "caller_kind != 'service' and src_out_count_10m >= 1 and src_new_beneficiaries_1h >= 1"
    " and new_beneficiary and src_history_count >= 3",  # lab 6's solution rule
    "amount - src_out_sum_1h > -src_in_sum_1h", "-src_avg_amount < -amount",
    "amount / 3 >= src_avg_amount", "src_out_count_10m / src_history_count < 0.5",
    "amount * 0.8 == src_out_sum_10m", "amount != src_avg_amount * 2",
    "src_avg_amount * 3 <= amount", "(amount + src_out_sum_1h) * 1.1 > src_in_sum_1h",
    "amount * 1000000000000000000000000 + 1 > amount * 1000000000000000000000000",
    "amount / 7 * 7 == amount", "src_avg_amount == 0.1 or src_avg_amount >= 2.5",
    "kind == caller_kind", "kind < caller_kind", "kind >= 'T'", "kind + 'X' == 'TRANSFERX'",
    "not new_beneficiary or amount <= 100", "new_beneficiary == true",
    "new_beneficiary != (amount > 5)", "new_beneficiary > false", "amount == 'x'",
    "new_beneficiary == 1", "kind != 2.5", "amount", "kind", "src_avg_amount",
    "amount and kind", "src_avg_amount or false", "not amount", "-amount",
]
WHENS = sorted({r.spec.when for name in ("v1", "v2") for r in load_ruleset(name).rules}
               | set(OPERATORS))


def pair(when: str) -> tuple[rule_engine.Rule, rule_engine.Rule]:
    return (rule_engine.Rule(when, context=features_context()),
            rule_engine.Rule(when, context=evaluation_context()))


COMPILED = {w: (*pair(w), translate(pair(w)[0].statement.expression,
                                    pair(w)[1].context.decimal_context)) for w in WHENS}

ints = st.one_of(st.integers(-3, 12), st.integers(-10**6, 10**6), st.integers(-10**30, 10**30))
floats = st.one_of(st.integers(-300, 3000).map(lambda n: n / 10),
                   st.integers(1, 10**6).map(lambda n: n / 3), st.floats())
words = st.sampled_from(["user", "service", "TRANSFER", "DEPOSIT", "WITHDRAWAL", "", "T", "X"])
ODD = st.one_of(st.booleans(), st.floats(), st.none(), words)  # a value of the wrong type
BY_TYPE = {int: ints, float: floats, str: words | st.text(max_size=3), bool: st.booleans()}


@st.composite
def features(draw: st.DrawFn) -> Features:
    hints = typing.get_type_hints(Features)
    values = {}
    for f in dataclasses.fields(Features):
        values[f.name] = draw(BY_TYPE[hints[f.name]] if draw(st.integers(0, 40)) else ODD)
    return Features(**values)


def outcome(fn: Any, f: Features) -> tuple[str, Any]:
    try:
        return ("ok", bool(fn(f)))
    except Exception as exc:
        return ("error", type(exc))


def test_every_condition_used_here_is_translated() -> None:
    """None of these took the fallback (else the property below would compare the library with
    itself), and on ordinary Features every closure answers without deferring to the library."""
    for when in WHENS:
        f = Features(amount=1000, kind="TRANSFER", src_history_count=4, src_avg_amount=12.5)
        assert outcome(COMPILED[when][2], f)[0] == "ok", when


@settings(max_examples=300, deadline=None)
@given(f=features())
def test_the_closures_answer_as_rule_engine(f: Features) -> None:
    for when in WHENS:
        checked, reference, fn = COMPILED[when]
        expected = outcome(reference.matches, f)
        raw = outcome(fn, f)  # the closures alone: when they answer, it is the library's answer
        if raw[0] == "ok":
            assert raw == expected, when
        assert outcome(compile_condition(checked, reference), f) == expected, when


@pytest.mark.parametrize("when", ["kind =~ 'WITH.*'", "amount % 7 == 0", "kind in ['DEPOSIT']",
                                  "amount // 2 > 3"])
def test_an_untranslated_node_keeps_the_library(when: str) -> None:
    checked, reference = pair(when)
    with pytest.raises(Untranslatable):
        translate(checked.statement.expression, reference.context.decimal_context)
    assert compile_condition(checked, reference) == reference.matches
    rs = RuleSet.from_yaml("ruleset: t\nreview_score: 1\nblock_score: 2\nrules:\n  - {id: r, "
                           f"version: 1, description: d, when: \"{when}\", verdict: review, "
                           "score: 1, reason: R}\n")
    assert rs.rules[0].compiled == rs.rules[0].condition.matches
    for f in (Features(amount=14, kind="WITHDRAWAL"), Features(amount=3, kind="DEPOSIT")):
        assert rs.rules[0].matches(f) is reference.matches(f)
