"""The simulator's background loop: pending objects move on, and webhooks are delivered.

Durable, at-least-once: a delivery is a row of `deliveries`, marked delivered only after the
receiver answered 2xx; anything else (a non-2xx, a refused connection, a timeout) schedules a
retry after 0.5 s, doubling, with +-25 % jitter, until `provider_webhook_retry_window_seconds`
after the first attempt; then the row is `failed`. A simulator killed mid-send resends at
restart. Every attempt is a row of `attempts`, which /_admin/deliveries lists.

Deliveries go out one at a time in (due_at, id) order, so the order the engine queued them in
(or the newest-first order a reorder release gives them) is the order the receiver sees.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from typing import Any

import httpx

from fintech_core.provider_sim import engine
from fintech_core.provider_sim import knobs as knob_store
from fintech_core.provider_sim.http import Sim
from fintech_core.provider_sim.personalities import PERSONALITIES
from fintech_core.provider_sim.secrets import load_or_create, new_webhook_secret

log = logging.getLogger("provider_sim.sender")
FIRST_RETRY_SECONDS = 0.5
HELD_AT_MOST_SECONDS = 30.0  # reordered events are released at the latest after this
SEND_TIMEOUT_SECONDS = 5.0
IDLE_POLL_SECONDS = 0.05


def retry_delay(attempts: int, rng: random.Random) -> float:
    """0.5 s after the first failed attempt, doubling, jittered so that many deliveries that
    failed together do not all come back in the same instant."""
    return FIRST_RETRY_SECONDS * 2 ** (attempts - 1) * rng.uniform(0.75, 1.25)


def webhook_url(sim: Sim, provider: str) -> str:
    s = sim.settings
    return s.provider_webhook_url_template.format(api_host=s.api_host, api_port=s.api_port,
                                                  provider=provider)


class Sender:
    def __init__(self, sim: Sim, rng: random.Random | None = None) -> None:
        self.sim, self.rng = sim, rng or random.Random()
        self.client = httpx.AsyncClient(timeout=SEND_TIMEOUT_SECONDS)

    async def run(self) -> None:
        while True:
            try:
                busy = await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database restarting must not end the loop
                log.exception("sender step failed; retrying")
                busy = False
                await asyncio.sleep(0.5)
            if not busy:
                self.sim.wake_sender.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.sim.wake_sender.wait(), IDLE_POLL_SECONDS)

    async def close(self) -> None:
        await self.client.aclose()

    async def step(self) -> bool:
        async with self.sim.connection() as conn, conn.transaction():
            moved = await engine.advance_due(conn)
        await self.release_held()
        async with self.sim.connection() as conn:
            cur = await conn.execute(
                "SELECT d.id, d.attempts, d.first_attempt_at, d.wrong_signature, "
                "d.clock_skew_seconds, e.id AS event_id, e.provider, e.type, e.payload, "
                "e.created_at FROM deliveries d JOIN events e ON e.seq = d.event_seq "
                "WHERE d.state = 'pending' AND d.due_at <= now() ORDER BY d.due_at, d.id "
                "LIMIT 50")
            due = await cur.fetchall()
        for delivery in due:
            await self.deliver(delivery)
        return bool(moved or due)

    async def release_held(self) -> None:
        """Held (reordered) deliveries go out once the personality's reorder knob is off,
        newest event first."""
        async with self.sim.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT e.provider, min(d.held_since) AS since FROM deliveries d "
                "JOIN events e ON e.seq = d.event_seq WHERE d.state = 'held' GROUP BY e.provider")
            for row in await cur.fetchall():
                knobs = await knob_store.current(conn, row["provider"], consume=False)
                too_long = time.time() - row["since"].timestamp() > HELD_AT_MOST_SECONDS
                if knobs.reorder and not too_long:
                    continue
                await conn.execute(
                    "UPDATE deliveries d SET state = 'pending', "
                    "due_at = now() + ranked.n * interval '1 millisecond' FROM ("
                    "  SELECT d2.id, row_number() OVER (ORDER BY e.seq DESC, d2.copy) AS n "
                    "  FROM deliveries d2 JOIN events e ON e.seq = d2.event_seq "
                    "  WHERE d2.state = 'held' AND e.provider = %s) ranked "
                    "WHERE d.id = ranked.id", (row["provider"],))

    async def deliver(self, d: dict[str, Any]) -> None:
        provider = d["provider"]
        personality = PERSONALITIES[provider]
        secrets = load_or_create(self.sim.lab_dir).of(provider).webhook_secrets  # rotations
        if d["wrong_signature"]:
            secrets = (new_webhook_secret(),)  # a secret nobody else ever held
        signed_at = int(time.time()) + d["clock_skew_seconds"]
        event = {"id": d["event_id"], "type": d["type"], "payload": d["payload"],
                 "created_at": d["created_at"]}
        headers, body = personality.webhook(event, secrets, signed_at)
        url = webhook_url(self.sim, provider)
        status, error = None, None
        try:
            response = await self.client.post(url, content=body, headers=headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        ok = status is not None and 200 <= status < 300
        async with self.sim.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO attempts (delivery_id, url, status_code, error, signed_timestamp) "
                "VALUES (%s, %s, %s, %s, %s)", (d["id"], url, status, error, signed_at))
            attempts = d["attempts"] + 1
            first = d["first_attempt_at"]
            elapsed = 0.0 if first is None else time.time() - first.timestamp()
            delay = retry_delay(attempts, self.rng)
            window = self.sim.settings.provider_webhook_retry_window_seconds
            state = ("delivered" if ok else
                     "failed" if elapsed + delay > window else "pending")
            await conn.execute(
                "UPDATE deliveries SET attempts = %s, state = %s, "
                "first_attempt_at = coalesce(first_attempt_at, now()), "
                "due_at = now() + make_interval(secs => %s) WHERE id = %s",
                (attempts, state, delay, d["id"]))
