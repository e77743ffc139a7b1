"""The feature store over Redis: features.lua reads and counts one attempt atomically.

Why one script: the windows of an account are read and then incremented; as separate commands
two concurrent attempts would both read "before me" and a burst would slip under a velocity
rule. A script runs alone on Redis, so per attempt the read-then-count is a single step.
Same answers as MemoryFeatureStore for the same attempts (an integration test holds them to it).

Growth is bounded: window keys expire a while after their last write (they only matter for an
hour), profile keys after `profile_ttl` without a learned transfer. The script is sent once
(redis-py's Script: EVALSHA, reloading it only if the server lost it).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from fintech_core.fraud.features import HOUR_MS, TEN_MINUTES_MS, at_ms, build, member
from fintech_core.fraud.model import Attempt, Features

SCRIPT = Path(__file__).with_name("features.lua").read_text()
# The order of the script's reply.
RAW = ("out_n_10m", "out_sum_10m", "out_n_1h", "out_sum_1h", "in_sum_1h", "wd_n_1h",
       "newben_n_1h", "hist_n", "hist_sum", "new_ben", "dst_in_n_1h", "dst_src_n_1h",
       "ip_n_10m", "dev_src_n_1h")
WINDOW_TTL_MS = 2 * HOUR_MS


class RedisFeatureStore:
    """Over a redis.asyncio client (anything with `register_script` and `pipeline`)."""

    def __init__(self, redis: Any, prefix: str = "fcl:fraud:",
                 profile_ttl: timedelta = timedelta(days=90)) -> None:
        self.redis, self.prefix = redis, prefix
        self.profile_ttl_ms = int(profile_ttl / timedelta(milliseconds=1))
        self._script = redis.register_script(SCRIPT)

    def _k(self, kind: str, who: object) -> str:
        return f"{self.prefix}{kind}:{who}"

    async def observe(self, attempt: Attempt) -> Features:
        t = at_ms(attempt.at)
        src = str(attempt.source_id) if attempt.source_id else ""
        dst = str(attempt.destination_id) if attempt.destination_id else ""
        ip, dev = attempt.client_ip or "", attempt.device_id or ""
        keys = [self._k("out", src), self._k("in", src), self._k("wd", src),
                self._k("newben", src), self._k("bens", src), self._k("hist", src),
                self._k("in", dst), self._k("dsrc", dst), self._k("ip", ip), self._k("dev", dev)]
        args = [t, t - TEN_MINUTES_MS, t - HOUR_MS, member(attempt), src, dst, ip, dev,
                WINDOW_TTL_MS]
        reply = await self._script(keys=keys, args=[str(a) for a in args])
        return build(attempt, dict(zip(RAW, (int(v) for v in reply), strict=True)))

    async def warm(self) -> None:
        """Connect and load the script, so the first observe is one EVALSHA like the rest."""
        await self.redis.script_load(SCRIPT)

    async def learn(self, attempt: Attempt) -> None:
        if attempt.source_id is None:
            return
        hist, bens = self._k("hist", attempt.source_id), self._k("bens", attempt.source_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(hist, "n", 1)
            pipe.hincrby(hist, "sum", attempt.amount)
            pipe.pexpire(hist, self.profile_ttl_ms)
            if attempt.destination_id is not None:
                pipe.sadd(bens, str(attempt.destination_id))
                pipe.pexpire(bens, self.profile_ttl_ms)
            await pipe.execute()
