"""The GCRA rate limiter: gcra.lua run atomically on Redis, one key per (policy, who).

Why GCRA: it is a token bucket with a single number of state (the TAT), refilled continuously:
no window edges where a client can send 2x the rate across a boundary (the fixed-window flaw),
and O(1) memory per key (unlike a sliding log). A policy of `rate` per `period` with `burst`
allows `burst` requests at once on an idle key, then one every period/rate.

What is guaranteed: decisions for one key are serialized by Redis (a script runs alone), so N
API processes sharing a Redis never admit more than the policy allows between them. The clock
is the Redis server's (`TIME`), not each API process's, so their skew does not matter.
What is not: a Redis failover may lose the latest TATs and briefly admit up to one more burst.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

SCRIPT = (Path(__file__).with_name("gcra.lua")).read_text()


@dataclass(frozen=True)
class RatePolicy:
    name: str  # the RateLimit-Policy item name ("per-principal", "per-ip", ...)
    rate: int  # requests per period, sustained
    period: timedelta
    burst: int  # requests allowed at once on an idle key

    def __post_init__(self) -> None:
        if self.rate < 1 or self.burst < 1 or self.period <= timedelta(0):
            raise ValueError("a rate policy needs rate >= 1, burst >= 1 and a positive period")

    @property
    def emission_interval_us(self) -> int:
        return int(self.period / timedelta(microseconds=1)) // self.rate


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after_s: float  # 0 when allowed
    reset_s: float  # until the key holds a full burst again

    @property
    def retry_after_header(self) -> int:
        return max(1, math.ceil(self.retry_after_s)) if not self.allowed else 0


class GcraLimiter:
    """Over a redis.asyncio client (any client with `register_script`)."""

    def __init__(self, redis: Any, prefix: str = "fcl:rl") -> None:
        self.prefix = prefix
        self._script = redis.register_script(SCRIPT)

    async def check(self, policy: RatePolicy, who: str, cost: int = 1,
                    now_us: int | None = None) -> Decision:
        """Spend `cost` units of `who`'s allowance, if the policy allows it now. `now_us` is for
        tests with a fixed arrival schedule; production uses the Redis server's clock."""
        key = f"{self.prefix}:{policy.name}:{who}"
        allowed, remaining, retry_us, reset_us = await self._script(
            keys=[key], args=[policy.emission_interval_us, policy.burst, cost,
                              "" if now_us is None else str(now_us)])
        return Decision(bool(allowed), int(remaining), int(retry_us) / 1e6, int(reset_us) / 1e6)
