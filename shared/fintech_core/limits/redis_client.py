"""The Redis the rate limiter counts in (the container holds no Redis client: phases 0..3 never
needed one, and only the limiter does in phase 4).

`limiter_redis(settings)` is an asyncio client tuned to *fail fast*: the limiter sits in front
of every request, so a Redis that is down or hung must cost a request at most `TIMEOUT_S`, and
then answer at once (limits/middleware.py remembers an outage for a moment instead of paying the
timeout on every request). No retries inside the client: the middleware's fail-closed /
fail-open decision is the retry policy.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.retry import Retry

from fintech_core.settings import Settings

# A GCRA round trip on loopback is well under 1 ms, but the timeout also counts the event loop's
# own lag: at 0.25 s a loaded 2-core machine (24 requests in one process) saw a false outage and
# refused money moves for a second. A Redis that is really down refuses the connection at once
# (~7 ms measured), so a generous timeout only costs anything when Redis hangs, and then once per
# DOWN_FOR_S, not per request.
TIMEOUT_S = 2.0


def redis_url(settings: Settings) -> str:
    """FINCORE_REDIS_URL, else the lab's embedded Redis (stack/redis.py) on its port."""
    return settings.redis_url or f"redis://127.0.0.1:{settings.redis_port}/0"


def limiter_redis(settings: Settings) -> aioredis.Redis:
    return aioredis.Redis.from_url(
        redis_url(settings), socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S,
        retry=Retry(NoBackoff(), 0), retry_on_timeout=False, health_check_interval=0)
