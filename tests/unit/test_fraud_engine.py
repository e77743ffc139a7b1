"""The request path's fraud engine (fraud/engine.py): rules decide within the budget; past it, or
when the engine fails, the configured fallback applies and says why; the shadow rule set is
evaluated on the same features and never applied; the drill knobs act only in drill mode."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from fintech_core.fraud.engine import FraudEngine
from fintech_core.fraud.features import MemoryFeatureStore
from fintech_core.fraud.model import Attempt, Features, Verdict
from fintech_core.fraud.rules import RuleSet
from fintech_core.settings import Settings

RULES = """
ruleset: {name}
description: big amounts
review_score: 60
block_score: 120
rules:
  - id: big
    version: 3
    description: a big amount
    when: "caller_kind != 'service' and amount >= {review}"
    verdict: review
    score: 60
    reason: BIG_AMOUNT
"""


def ruleset(name: str = "t1", review: int = 1000) -> RuleSet:
    return RuleSet.from_yaml(RULES.format(name=name, review=review))


def attempt(amount: int, caller_kind: str = "user") -> Attempt:
    return Attempt(uuid4(), "TRANSFER", uuid4(), uuid4(), amount, "EUR", datetime.now(UTC),
                   "alice", "127.0.0.1", "dev-1", caller_kind)


class HangingStore:
    """A feature store whose Redis never answers (the engine must not wait for it)."""

    def __init__(self) -> None:
        self.never = asyncio.Event()

    async def observe(self, attempt: Attempt) -> Features:
        await self.never.wait()
        raise AssertionError("unreachable")

    async def learn(self, attempt: Attempt) -> None:
        await self.never.wait()

    async def warm(self) -> None:
        await self.never.wait()


class BrokenStore:
    async def observe(self, attempt: Attempt) -> Features:
        raise ConnectionError("redis is down")

    async def learn(self, attempt: Attempt) -> None:
        raise ConnectionError("redis is down")


def decide(engine: FraudEngine, a: Attempt):  # type: ignore[no-untyped-def]
    return asyncio.run(engine.decide(a))


def test_the_live_rules_decide_and_explain_with_reason_codes() -> None:
    engine = FraudEngine(ruleset(), MemoryFeatureStore())
    live, shadow = decide(engine, attempt(5000))
    assert (live.ruleset, live.verdict, live.score, live.fallback) == ("t1", Verdict.REVIEW, 60,
                                                                       None)
    assert [(h.rule_id, h.version, h.reason_code) for h in live.hits] == [("big", 3, "BIG_AMOUNT")]
    assert shadow is None
    assert decide(engine, attempt(999))[0].verdict is Verdict.ALLOW
    assert decide(engine, attempt(5000, caller_kind="service"))[0].verdict is Verdict.ALLOW


@pytest.mark.parametrize("fallback", [Verdict.ALLOW, Verdict.REVIEW])
def test_past_the_budget_the_fallback_applies_and_says_so(fallback: Verdict) -> None:
    engine = FraudEngine(ruleset(), HangingStore(), shadow=ruleset("t2"), budget_ms=5,
                         fallback=fallback)
    live, shadow = decide(engine, attempt(5000))
    assert (live.verdict, live.fallback, live.score, live.hits) == (fallback, "budget-exceeded",
                                                                    0, ())
    assert live.ruleset == "t1" and shadow is None


def test_a_failing_engine_falls_back_with_engine_error() -> None:
    engine = FraudEngine(ruleset(), BrokenStore(), fallback=Verdict.REVIEW)
    live, _ = decide(engine, attempt(10))
    assert (live.verdict, live.fallback) == (Verdict.REVIEW, "engine-error")
    asyncio.run(engine.learn(attempt(10)))  # a lesson lost is logged, never raised


def test_the_shadow_rules_see_the_same_features_and_never_change_the_live_verdict() -> None:
    engine = FraudEngine(ruleset("t1", review=10_000), MemoryFeatureStore(),
                         shadow=ruleset("t2", review=1000))
    live, shadow = decide(engine, attempt(5000))
    assert (live.ruleset, live.verdict) == ("t1", Verdict.ALLOW)
    assert shadow is not None and (shadow.ruleset, shadow.verdict) == ("t2", Verdict.REVIEW)


def test_the_drill_knobs_act_inside_the_budget_and_only_in_drill_mode() -> None:
    slow = FraudEngine(ruleset(), MemoryFeatureStore(), budget_ms=5, delay_ms=5_000)
    assert decide(slow, attempt(1))[0].fallback == "budget-exceeded"
    failing = FraudEngine(ruleset(), MemoryFeatureStore(), fail=True)
    assert decide(failing, attempt(1))[0].fallback == "engine-error"

    knobs = {"fraud_engine_delay_ms": 5_000, "fraud_engine_fail": True}
    quiet = FraudEngine.from_settings(Settings(**knobs))  # type: ignore[arg-type]
    drilled = FraudEngine.from_settings(Settings(drill_mode=True, **knobs))  # type: ignore[arg-type]
    assert (quiet.delay_s, quiet.fail) == (0, False)
    assert (drilled.delay_s, drilled.fail) == (5.0, True)


def test_settings_refuse_an_unknown_fallback_or_a_zero_budget() -> None:
    with pytest.raises(ValueError):
        Settings(fraud_fallback="block")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Settings(fraud_budget_ms=0)
    assert Settings().fraud_rules == "v1" and Settings().fraud_shadow_rules is None


class WarmingStore(MemoryFeatureStore):
    def __init__(self) -> None:
        super().__init__()
        self.warmed = 0

    async def warm(self) -> None:
        self.warmed += 1


def test_opening_the_engine_warms_its_store_and_a_hung_store_does_not_stop_the_start() -> None:
    store = WarmingStore()
    asyncio.run(FraudEngine(ruleset(), store).aopen())
    assert store.warmed == 1

    async def hung() -> None:
        engine = FraudEngine(ruleset(), HangingStore())
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("fintech_core.fraud.engine.WARM_UP_S", 0.05)
            await engine.aopen()  # returns: the warm-up gives up, the API starts

    asyncio.run(hung())
