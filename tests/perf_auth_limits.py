"""Measures what phase 4 adds to every request: an ES256 token verification and a GCRA round
trip to Redis. Not a test: run `python -m tests.perf_auth_limits` (starts its own embedded Redis
on a free port) and compare with the figures in shared/fintech_core/limits/README.md."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from fintech_core.auth.keys import KeyRing
from fintech_core.auth.principals import ClientKind, Role
from fintech_core.auth.tokens import TokenIssuer, TokenPolicy, TokenVerifier
from fintech_core.limits.gcra import GcraLimiter, RatePolicy
from fintech_core.limits.redis_client import limiter_redis
from fintech_core.settings import Settings
from fintech_core.stack.processes import free_port
from fintech_core.stack.redis import EmbeddedRedis


def cpu_us(fn: object, n: int) -> float:
    c0 = time.process_time()
    for _ in range(n):
        fn()  # type: ignore[operator]
    return (time.process_time() - c0) / n * 1e6


def verification() -> None:
    now = datetime.now(UTC)
    policy = TokenPolicy("https://i", "a")
    ring = KeyRing.started(now, policy.access_ttl, policy.leeway, timedelta(minutes=5))
    token = TokenIssuer(policy, ring).issue("alice", frozenset({Role.CUSTOMER}), ClientKind.USER)
    verifier = TokenVerifier(policy, ring)
    key = ring.verification_key(jwt.get_unverified_header(token)["kid"], now)
    print(f"TokenVerifier.verify: {cpu_us(lambda: verifier.verify(token), 2000):.0f} us CPU; "
          f"bare PyJWT ES256 decode: {cpu_us(lambda: jwt.decode(token, key, algorithms=['ES256'], audience='a', options={'verify_exp': False}), 2000):.0f} us CPU")  # noqa: E501


async def round_trips(url: str) -> None:
    client = limiter_redis(Settings(redis_url=url))
    limiter = GcraLimiter(client, prefix="measure")
    policy = RatePolicy("per-user", 1_000_000, timedelta(seconds=1), 1_000_000)
    for _ in range(200):
        await limiter.check(policy, "alice")
    samples, c0 = [], time.process_time()
    for _ in range(3000):
        t = time.perf_counter()
        await limiter.check(policy, "alice")
        samples.append(time.perf_counter() - t)
    cpu = (time.process_time() - c0) / 3000
    samples.sort()
    print(f"GCRA check round trip (sequential, loopback): p50 {samples[1500] * 1e3:.3f} ms, "
          f"p99 {samples[2970] * 1e3:.3f} ms; client CPU {cpu * 1e6:.0f} us per check")
    await client.aclose()


def main() -> None:
    verification()
    lab_dir = Path(tempfile.mkdtemp(prefix="fincore-perf-"))
    server = EmbeddedRedis(lab_dir, free_port())
    server.start()
    try:
        asyncio.run(round_trips(server.url()))
    finally:
        server.stop()
        shutil.rmtree(lab_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
