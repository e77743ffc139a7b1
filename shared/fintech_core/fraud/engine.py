"""The request path's fraud engine: one per process (the `Phase.resources` entry "fraud").

It holds the live rule set, an optional shadow rule set, the feature store (Redis) and the time
budget. `decide` observes the attempt's features and evaluates both rule sets, all inside
`asyncio.wait_for(budget)`:

- past the budget, the configured fallback verdict applies (`fallback="budget-exceeded"`);
- on any exception (Redis down, a bug in a rule), the same with `fallback="engine-error"`;
so a slow or broken engine costs a transfer at most the budget, and every fallback is stored
with the decision (counted by GET /fraud/decisions/stats), never hidden.

What the budget may cancel: only this engine's own work, a Redis round trip and CPU. The
transfer's database connection is never used in here, so a timeout can never cancel a statement
of the transfer's transaction half-way (which would poison the connection and the batch).

The drill knobs FINCORE_FRAUD_ENGINE_DELAY_MS / _FAIL act *inside* the budgeted call, exactly
where a slow or failing engine would, and only with FINCORE_DRILL_MODE.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from fintech_core.fraud.model import Attempt, Decision, Features, Verdict
from fintech_core.settings import Settings

if TYPE_CHECKING:
    from fintech_core.fraud.features import FeatureStore
    from fintech_core.fraud.rules import RuleSet

RESOURCE = "fraud"
BUDGET_EXCEEDED = "budget-exceeded"
ENGINE_ERROR = "engine-error"
WARM_UP_S = 2.0
log = logging.getLogger(__name__)


class EngineFailure(RuntimeError):
    """The drills' failing engine (FINCORE_FRAUD_ENGINE_FAIL)."""


class FraudEngine:
    def __init__(self, live: RuleSet, store: FeatureStore, *, shadow: RuleSet | None = None,
                 budget_ms: int = 20, fallback: Verdict = Verdict.ALLOW, delay_ms: int = 0,
                 fail: bool = False, review_ttl_seconds: int = 3600, redis: Any = None) -> None:
        self.live, self.shadow, self.store = live, shadow, store
        self.review_ttl_seconds = review_ttl_seconds  # the expiry of a review's hold
        self.budget_s = budget_ms / 1000
        self.fallback = fallback
        self.delay_s, self.fail = delay_ms / 1000, fail
        self._redis = redis  # closed by aclose(); None for a store the caller owns

    @classmethod
    def from_settings(cls, settings: Settings) -> FraudEngine:
        """Builds without connecting anything (Phase.resources): the Redis client connects on
        its first command. Rule sets are loaded (and validated) here, so a bad rule set stops
        the API at start-up, not on the first transfer."""
        from fintech_core.fraud.redis_features import RedisFeatureStore
        from fintech_core.fraud.rules import load_ruleset
        from fintech_core.limits.redis_client import limiter_redis

        redis = limiter_redis(settings)  # fail fast: a hung Redis costs the budget, no more
        shadow = settings.fraud_shadow_rules
        drill = settings.drill_mode
        return cls(load_ruleset(settings.fraud_rules),
                   RedisFeatureStore(redis, prefix=settings.fraud_features_prefix),
                   shadow=load_ruleset(shadow) if shadow else None,
                   budget_ms=settings.fraud_budget_ms, fallback=Verdict(settings.fraud_fallback),
                   delay_ms=settings.fraud_engine_delay_ms if drill else 0,
                   fail=settings.fraud_engine_fail and drill,
                   review_ttl_seconds=settings.fraud_review_ttl_seconds, redis=redis)

    async def decide(self, attempt: Attempt) -> tuple[Decision, Decision | None]:
        """(live, shadow) within the budget; the fallback (and no shadow) past it or on error."""
        try:
            return await asyncio.wait_for(self._decide(attempt), self.budget_s)
        except TimeoutError:
            return self._fallback(BUDGET_EXCEEDED), None
        except Exception:
            log.exception("fraud engine failed on transfer %s", attempt.transfer_id)
            return self._fallback(ENGINE_ERROR), None

    async def learn(self, attempt: Attempt) -> None:
        """Teach the profile a transfer the engine let through. Best effort, within the budget:
        a missed lesson leaves the profile less informed, never a transfer refused."""
        try:
            await asyncio.wait_for(self.store.learn(attempt), self.budget_s)
        except Exception:  # TimeoutError included
            log.warning("fraud profile did not learn transfer %s", attempt.transfer_id)

    async def _decide(self, attempt: Attempt) -> tuple[Decision, Decision | None]:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail:
            raise EngineFailure("drill: the fraud engine fails (FINCORE_FRAUD_ENGINE_FAIL)")
        features = await self.store.observe(attempt)
        live = self.live.evaluate(features)
        return live, self.shadow.evaluate(features) if self.shadow is not None else None

    def _fallback(self, why: str) -> Decision:
        return Decision(self.live.name, self.fallback, 0, (), fallback=why)

    async def aopen(self) -> None:
        """Warm up at start (Container.open): connect to Redis, load the script, evaluate each
        rule set once. Measured: without it the first decision of a fresh API process paid the
        connection and the script load, missed the 20 ms budget and fell back, so the first
        transfer of a lab (maybe a mule's) was decided by the fallback. Best effort: a Redis
        that is down at start is the budget's business, not a reason to refuse to start."""
        blank = Features(amount=1, kind="TRANSFER")
        for ruleset in (self.live, self.shadow):
            if ruleset is not None:
                ruleset.evaluate(blank)
        try:
            await asyncio.wait_for(self.store.warm(), WARM_UP_S)
        except Exception:  # TimeoutError included
            log.warning("fraud engine: the feature store did not warm up; decisions may fall back")

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


def build(settings: Settings) -> FraudEngine:
    return FraudEngine.from_settings(settings)
