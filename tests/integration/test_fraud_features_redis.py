"""RedisFeatureStore (one Lua script on the session's real Redis) answers exactly as
MemoryFeatureStore for the same seeded sequence of attempts: every feature of every attempt,
including window edges hit to the millisecond, equal timestamps and learned profiles."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from fintech_core.fraud.features import MemoryFeatureStore
from fintech_core.fraud.model import Attempt
from fintech_core.fraud.redis_features import RedisFeatureStore
from fintech_core.stack.lab import Lab

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
async def client(lab: Lab) -> AsyncIterator[aioredis.Redis]:
    c = aioredis.Redis.from_url(lab.redis_url())
    try:
        yield c
    finally:
        await c.aclose()


def sequence(seed: int, n: int) -> list[tuple[Attempt, bool]]:
    """Attempts among a few accounts, IPs and devices; gaps of 0 ms to 20 min, some exactly on a
    window edge; each with whether the engine would let it through (learned)."""
    rng = random.Random(seed)
    accounts = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(6)]
    t, out = datetime(2026, 3, 2, tzinfo=UTC), []
    for _ in range(n):
        t += timedelta(milliseconds=rng.choice([0, 1, 999, 30_000, 120_000, 600_000, 1_200_000]))
        src, dst = rng.sample([*accounts, None], 2)
        if src is None and dst is None:
            dst = accounts[0]
        kind = "DEPOSIT" if src is None else "WITHDRAWAL" if dst is None else "TRANSFER"
        a = Attempt(uuid.UUID(int=rng.getrandbits(128)), kind, src, dst,
                    rng.randint(1, 90_000), "EUR", t, "who",
                    rng.choice([None, "10.0.0.1", "10.0.0.2"]),
                    rng.choice([None, "phone", "tablet", "farm"]))
        out.append((a, rng.random() < 0.7))
    return out


@pytest.mark.parametrize("seed", [1, 2])
async def test_redis_and_memory_agree_on_every_feature(client: aioredis.Redis, seed: int) -> None:
    prefix = f"test:fraud:{uuid.uuid4().hex}:"
    redis_store, memory = RedisFeatureStore(client, prefix=prefix), MemoryFeatureStore()
    mismatches, nonzero = [], set()
    for i, (a, learned) in enumerate(sequence(seed, 600)):
        ours, reference = await redis_store.observe(a), await memory.observe(a)
        if ours != reference:
            mismatches.append((i, ours, reference))
        nonzero |= {k for k, v in reference.as_facts().items() if v}
        if learned:
            await redis_store.learn(a)
            await memory.learn(a)
    assert mismatches == []
    assert nonzero >= {"src_out_count_10m", "src_in_sum_1h", "src_withdrawal_count_1h",
                       "src_new_beneficiaries_1h", "src_avg_amount", "new_beneficiary",
                       "dst_distinct_sources_1h", "ip_out_count_10m", "device_sources_1h"}
    # Every key the store wrote expires: Redis does not grow without bound.
    keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
    assert keys and all([await client.pttl(k) > 0 for k in keys])


async def test_warming_loads_the_script_before_the_first_attempt(client: aioredis.Redis) -> None:
    """Other scripts (the limiter's GCRA) reload on NOSCRIPT, so flushing here is harmless."""
    store = RedisFeatureStore(client, prefix=f"fcl:test:{uuid.uuid4()}:")
    await client.script_flush()
    sha = store._script.sha
    assert await client.script_exists(sha) == [False]
    await store.warm()
    assert await client.script_exists(sha) == [True]
