"""THE DELIBERATELY BROKEN LIMITS BASELINE, mounted only with FINCORE_NAIVE_BASELINE=true.

The "how fast, how much" code a first version ships, kept so phase 4's limit drills can play the
same burst, race and outage against it and against phase 4. Everything wrong here is wrong on
purpose:
- how fast: a fixed-window counter per client and minute (INCR, then EXPIRE: two commands, not
  one script), sized so that "no customer ever hits it" (600 a minute): a burst of a minute's
  worth lands in one second. And when Redis cannot be reached it lets everything through ("the
  limiter must never take the API down"), money moves included: an outage is an unlimited burst;
- how much: the daily limit is checked by reading today's total, comparing, then moving the
  money and recording it, each an autocommitted statement with no lock: N transfers that arrive
  together all read the same total, all pass, and the day ends over the limit.
Floats for money, like the naive transfer. Do not copy any of it.

Its two tables are created on first use (the baseline predates the migrations it would need).
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from fastapi import APIRouter, Depends, Header, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from fintech_core.api.deps import ContainerDep
from fintech_core.naive.routes import NAIVE_IS_PUBLIC

NAIVE_PER_MINUTE = 600  # "nobody will ever send that many"
TABLES = (
    "CREATE TABLE IF NOT EXISTS naive_daily_limits (account_id bigint PRIMARY KEY,"
    " daily_max double precision NOT NULL)",
    "CREATE TABLE IF NOT EXISTS naive_transfers (id bigserial PRIMARY KEY, from_id bigint NOT NULL,"
    " to_id bigint NOT NULL, amount double precision NOT NULL, client text NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT clock_timestamp())",
)
_created: set[str] = set()
_redis: dict[str, Any] = {}


class NaiveLimitIn(BaseModel):
    daily_max: float


class NaiveLimitedTransferIn(BaseModel):
    from_id: int
    to_id: int
    amount: float


def ensure_tables(conn: psycopg.Connection[Any]) -> None:
    """Create the baseline's tables if missing (the drills call it too, to read them first)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('naive_limits'))")
        for ddl in TABLES:
            conn.execute(ddl)


def _connect(url: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(url, autocommit=True)
    if url not in _created:
        ensure_tables(conn)
        _created.add(url)
    return conn


def _over_the_rate(redis_url: str | None, client: str) -> bool:
    """Fixed window, fail open. True only when Redis answered and counted past the limit."""
    try:
        import redis

        if redis_url not in _redis:
            _redis[str(redis_url)] = redis.Redis.from_url(str(redis_url), socket_timeout=0.5,
                                                          socket_connect_timeout=0.5)
        r = _redis[str(redis_url)]
        key = f"naive:rl:{client}:{int(time.time() // 60)}"
        count = int(r.incr(key))
        r.expire(key, 60)  # a crash between the two commands leaves a key that never expires
        return count > NAIVE_PER_MINUTE
    except Exception:  # Redis down? "never let the limiter take the API down": let it through
        return False


def router() -> APIRouter:
    r = APIRouter(prefix="/naive", tags=["naive baseline (deliberately broken)"],
                  dependencies=[Depends(NAIVE_IS_PUBLIC)])

    @r.put("/accounts/{account_id}/daily-limit")
    def set_daily_limit(account_id: int, body: NaiveLimitIn, c: ContainerDep) -> dict[str, object]:
        with _connect(c.database_url) as db:
            db.execute("INSERT INTO naive_daily_limits (account_id, daily_max) VALUES (%s, %s)"
                       " ON CONFLICT (account_id) DO UPDATE SET daily_max = excluded.daily_max",
                       (account_id, body.daily_max))
        return {"account_id": account_id, "daily_max": body.daily_max}

    @r.post("/limited-transfers", response_model=None)
    def limited_transfer(body: NaiveLimitedTransferIn, c: ContainerDep,
                         client: str = Header("anonymous", alias="X-Client-Id"),
                         ) -> dict[str, object] | JSONResponse:
        if _over_the_rate(c.settings.redis_url, client):
            return JSONResponse({"error": "slow down"}, status_code=429)
        with _connect(c.database_url) as db:
            limit = db.execute("SELECT daily_max FROM naive_daily_limits WHERE account_id = %s",
                               (body.from_id,)).fetchone()
            if limit is not None:  # read the day's total, compare: nothing holds it meanwhile
                (sent,) = db.execute(
                    "SELECT coalesce(sum(amount), 0) FROM naive_transfers WHERE from_id = %s"
                    " AND created_at >= date_trunc('day', now() AT TIME ZONE 'UTC')"
                    " AT TIME ZONE 'UTC'", (body.from_id,)).fetchone() or (0,)
                if sent + body.amount > limit[0]:
                    raise HTTPException(400, "daily limit exceeded")
            src = db.execute("SELECT balance FROM naive_accounts WHERE id = %s",
                             (body.from_id,)).fetchone()
            if src is None or src[0] < body.amount:
                raise HTTPException(400, "insufficient funds")
            db.execute("UPDATE naive_accounts SET balance = balance - %s WHERE id = %s",
                       (body.amount, body.from_id))
            db.execute("UPDATE naive_accounts SET balance = balance + %s WHERE id = %s",
                       (body.amount, body.to_id))
            (tid,) = db.execute("INSERT INTO naive_transfers (from_id, to_id, amount, client)"
                                " VALUES (%s, %s, %s, %s) RETURNING id",
                                (body.from_id, body.to_id, body.amount, client)).fetchone() or (0,)
        return {"ok": True, "id": tid}

    return r
