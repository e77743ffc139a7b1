"""Runtime knobs: how the simulator misbehaves, per personality or for all ("*").

What applies to a request is the defaults, overridden by the "*" entry, overridden by the
personality's entry. A `POST /_admin/knobs` merges its fields into that entry (so `decline`
and then `latency_ms` give both); `times: N` makes the entry apply to the next N operations
(POSTs that create a charge, refund or payout; GETs are not operations), after which it is
deleted; `POST /_admin/reset` deletes every entry. The webhook knobs of an operation are stored
with the object it creates, so its later events (a payout paid 200 ms on) follow them too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field

Conn = AsyncConnection[DictRow]  # the pool hands out dict rows (http.open_pool)


@dataclass(frozen=True)
class Knobs:
    latency_ms: int = 0
    decline: bool = False
    timeout: str = "none"
    hang_ms: int = 10_000
    duplicate_deliveries: int = 0
    reorder: bool = False
    lose_webhooks: bool = False
    wrong_signature: bool = False
    clock_skew_seconds: int = 0
    settle_delay_ms: int = 0
    payout_delay_ms: int = 200

    def webhook_part(self) -> dict[str, Any]:
        """What an object keeps for its later events."""
        return {k: v for k, v in asdict(self).items() if k in WEBHOOK_KNOBS}


WEBHOOK_KNOBS = ("duplicate_deliveries", "reorder", "lose_webhooks", "wrong_signature",
                 "clock_skew_seconds")
NAMES = tuple(f.name for f in fields(Knobs))


class KnobsRequest(BaseModel):
    """The body of POST /_admin/knobs; absent fields keep their current value."""

    model_config = ConfigDict(extra="forbid")
    provider: Literal["ledgerpay", "stripeish", "*"]
    latency_ms: int | None = Field(default=None, ge=0, le=120_000)
    decline: bool | None = None
    timeout: Literal["none", "before", "after"] | None = None
    hang_ms: int | None = Field(default=None, ge=0, le=600_000)
    duplicate_deliveries: int | None = Field(default=None, ge=0, le=20)
    reorder: bool | None = None
    lose_webhooks: bool | None = None
    wrong_signature: bool | None = None
    clock_skew_seconds: int | None = Field(default=None, ge=-86_400, le=86_400)
    settle_delay_ms: int | None = Field(default=None, ge=0, le=600_000)
    payout_delay_ms: int | None = Field(default=None, ge=0, le=600_000)
    times: int | None = Field(default=None, ge=1)


async def set_knobs(conn: Conn, request: KnobsRequest) -> None:
    given = {k: v for k, v in request.model_dump(exclude={"provider", "times"}).items()
             if v is not None}
    await conn.execute(
        "INSERT INTO knobs (provider, settings, remaining) VALUES (%s, %s, %s) "
        "ON CONFLICT (provider) DO UPDATE SET settings = knobs.settings || EXCLUDED.settings, "
        "remaining = EXCLUDED.remaining",
        (request.provider, Jsonb(given), request.times))


async def reset(conn: Conn) -> None:
    await conn.execute("DELETE FROM knobs")


async def listing(conn: Conn) -> dict[str, Any]:
    """Every entry as set, and what each personality gets now."""
    cur = await conn.execute("SELECT provider, settings, remaining FROM knobs ORDER BY provider")
    entries = {r["provider"]: {**r["settings"], "times": r["remaining"]}
               for r in await cur.fetchall()}
    effective = {p: asdict(await current(conn, p, consume=False))
                 for p in ("ledgerpay", "stripeish")}
    return {"entries": entries, "effective": effective, "defaults": asdict(Knobs())}


async def current(conn: Conn, provider: str, *, consume: bool) -> Knobs:
    """The knobs for one request of `provider`; `consume` counts it as one operation (inside
    the caller's transaction: rows are locked, so two concurrent operations never both take
    the last of `times: 1`)."""
    lock = " FOR UPDATE" if consume else ""
    cur = await conn.execute(
        "SELECT provider, settings, remaining FROM knobs WHERE provider IN ('*', %s)"
        f" ORDER BY provider = '*' DESC{lock}", (provider,))
    merged: dict[str, Any] = {}
    for row in await cur.fetchall():  # "*" first, then the personality's own entry
        name, remaining = row["provider"], row["remaining"]
        merged.update({k: v for k, v in row["settings"].items() if k in NAMES})
        if consume and remaining is not None:
            if remaining <= 1:
                await conn.execute("DELETE FROM knobs WHERE provider = %s", (name,))
            else:
                await conn.execute("UPDATE knobs SET remaining = remaining - 1 "
                                   "WHERE provider = %s", (name,))
    return Knobs(**merged)
