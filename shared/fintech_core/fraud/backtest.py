"""Replay a labelled history through a rule set: precision and recall per rule, per pattern and
overall, before a rule set goes live (and next to the live one: `--against`).

The replay is the engine's loop without the network: observe (features before the attempt,
then count it) -> evaluate -> learn unless blocked (a review is a hold that is usually
approved; a block never becomes "usual"). In time order, on a fresh MemoryFeatureStore per rule
set (what a set learns depends on what it blocked). Deterministic for a given history; only
`eval_us` (the mean cost of `evaluate` on this machine) varies between runs.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from fintech_core.fraud.features import MemoryFeatureStore
from fintech_core.fraud.model import Decision, Features, Verdict
from fintech_core.fraud.rules import RuleSet
from fintech_core.fraud.synth import PATTERNS, Labelled


@dataclass(frozen=True)
class Row:
    """One attempt as the rule set saw it: the model comparison's training data."""

    item: Labelled
    features: Features
    decision: Decision

    @property
    def flagged(self) -> bool:
        return self.decision.verdict is not Verdict.ALLOW


@dataclass(frozen=True)
class Tally:
    """How one rule, one pattern or the whole set did. precision = true / fired; recall = true
    / every fraud attempt of the scope; money in minor units."""

    name: str
    fired: int
    true_pos: int
    false_pos: int
    precision: float
    recall: float
    money_caught: int
    fraud_money: int


@dataclass(frozen=True)
class Backtest:
    ruleset: str
    rows: tuple[Row, ...]
    rules: tuple[Tally, ...]
    patterns: tuple[Tally, ...]
    overall: Tally
    review_rate: float  # share of all attempts reviewed
    block_rate: float
    normal_customers: int  # principals with at least one normal outgoing attempt
    normal_customers_flagged: int  # ... of whom had a normal attempt reviewed or blocked
    eval_us: float  # mean µs per RuleSet.evaluate (machine-dependent; not part of equality)

    def figures(self) -> tuple[object, ...]:
        """Everything but the timing: equal for equal seeds."""
        return (self.rules, self.patterns, self.overall, self.review_rate, self.block_rate,
                self.normal_customers, self.normal_customers_flagged)


def tally(name: str, fired: list[Row], fraud: list[Row]) -> Tally:
    tp = [r for r in fired if r.item.is_fraud]
    return Tally(name, len(fired), len(tp), len(fired) - len(tp),
                 len(tp) / len(fired) if fired else 0.0, len(tp) / len(fraud) if fraud else 0.0,
                 sum(r.item.attempt.amount for r in tp),
                 sum(r.item.attempt.amount for r in fraud))


async def replay(history: list[Labelled], ruleset: RuleSet) -> Backtest:
    store, rows, spent = MemoryFeatureStore(), [], 0
    for item in history:
        features = await store.observe(item.attempt)
        t0 = time.perf_counter_ns()
        decision = ruleset.evaluate(features)
        spent += time.perf_counter_ns() - t0
        if decision.verdict is not Verdict.BLOCK:
            await store.learn(item.attempt)
        rows.append(Row(item, features, decision))
    fraud = [r for r in rows if r.item.is_fraud]
    per_rule = tuple(
        tally(rule.spec.id, [r for r in rows if rule.spec.id in {h.rule_id for h in
                                                                 r.decision.hits}], fraud)
        for rule in ruleset.rules)
    per_pattern = tuple(
        tally(p, [r for r in rows if r.flagged and r.item.pattern == p],
              [r for r in fraud if r.item.pattern == p]) for p in PATTERNS)
    # Customers: whoever made a normal outgoing attempt (a deposit into a mule is not one).
    normal = [r for r in rows if not r.item.is_fraud and r.item.attempt.source_id is not None]
    n = len(rows) or 1
    return Backtest(
        ruleset.name, tuple(rows), per_rule, per_pattern,
        tally("overall", [r for r in rows if r.flagged], fraud),
        sum(r.decision.verdict is Verdict.REVIEW for r in rows) / n,
        sum(r.decision.verdict is Verdict.BLOCK for r in rows) / n,
        len({r.item.attempt.principal for r in normal}),
        len({r.item.attempt.principal for r in normal if r.flagged}),
        spent / 1000 / n)


def run(history: list[Labelled], ruleset: RuleSet) -> Backtest:
    """`replay` from synchronous code (the CLI, tests). In a notebook, whose kernel already runs
    an event loop, `await replay(...)` instead: asyncio.run refuses to nest."""
    return asyncio.run(replay(history, ruleset))
