"""What every personality route shares: the API key, the Idempotency-Key, latency and timeouts.

Idempotency guarantee: the key row is inserted in the same transaction as the operation, so a
concurrent request with the same key waits on the unique index until the first commits, then
replays its response; an operation that raised a problem rolls the key back with it (a 4xx
changes nothing, and the key may be used again).

Timeouts: `before` hangs and drops the connection without acting (nothing stored, the key is
still free); `after` commits the operation (object, event, stored response) and then hangs and
drops the connection, so the client sees a timeout although the provider acted.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from fintech_core.provider_sim import knobs as knob_store
from fintech_core.provider_sim.knobs import Knobs
from fintech_core.provider_sim.problems import Problem
from fintech_core.provider_sim.secrets import ProviderSecrets, load_or_create
from fintech_core.settings import Settings

Act = Callable[[AsyncConnection, Knobs], Awaitable[tuple[int, dict[str, Any]]]]


@dataclass
class Sim:
    """The simulator's state, built once at start (the app's composition root)."""

    settings: Settings
    pool: AsyncConnectionPool
    lab_dir: Path
    secrets: ProviderSecrets
    wake_sender: asyncio.Event = field(default_factory=asyncio.Event)

    def reload_secrets(self) -> ProviderSecrets:
        self.secrets = load_or_create(self.lab_dir)
        return self.secrets

    def connection(self) -> Any:
        return self.pool.connection()


def open_pool(url: str) -> AsyncConnectionPool:
    return AsyncConnectionPool(url, min_size=1, max_size=10, open=False,
                               kwargs={"row_factory": dict_row, "autocommit": True})


def authorize(sim: Sim, request: Request, provider: str) -> None:
    """Bearer <api_key of this personality>; the file is read again once on a mismatch (it may
    have been created by another process after we started)."""
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    for secrets in (sim.secrets, None):
        known = (secrets or sim.reload_secrets()).of(provider).api_key
        if given and hmac.compare_digest(given, known):
            return
    raise Problem("unauthorized", f"send Authorization: Bearer <{provider} api_key>")


def request_hash(method: str, path: str, raw: bytes) -> str:
    """Same body = same JSON value: key order and whitespace do not make a different request."""
    try:
        canonical = json.dumps(json.loads(raw or b"null"), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = raw.decode("utf-8", "replace")
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def hang(request: Request, hang_ms: int) -> Response:
    """Ask the outer middleware (app.HangMiddleware) to hang, then drop the connection."""
    request.scope["sim"]["hang_ms"] = hang_ms
    return Response(status_code=204)


async def read(sim: Sim, request: Request, provider: str) -> None:
    """The preamble of a GET: the key, then the latency knob (GETs are not operations)."""
    authorize(sim, request, provider)
    async with sim.connection() as conn:
        current = await knob_store.current(conn, provider, consume=False)
    await asyncio.sleep(current.latency_ms / 1000)


async def operation(sim: Sim, request: Request, provider: str, act: Act) -> Response:
    authorize(sim, request, provider)
    key = request.headers.get("idempotency-key", "").strip()
    if not key or len(key) > 255:
        raise Problem("idempotency-key-missing", "send an Idempotency-Key header (1-255 chars)")
    digest = request_hash(request.method, request.url.path, await request.body())
    async with sim.connection() as conn, conn.transaction():
        current = await knob_store.current(conn, provider, consume=True)
    await asyncio.sleep(current.latency_ms / 1000)
    if current.timeout == "before":
        return hang(request, current.hang_ms)
    async with sim.connection() as conn, conn.transaction():
        cur = await conn.execute(
            "INSERT INTO idempotency (provider, key, request_hash, status, body) "
            "VALUES (%s, %s, %s, 0, '{}') ON CONFLICT DO NOTHING RETURNING key",
            (provider, key, digest))
        if await cur.fetchone() is None:
            cur = await conn.execute("SELECT request_hash, status, body FROM idempotency "
                                     "WHERE provider = %s AND key = %s", (provider, key))
            stored = await cur.fetchone()
            assert stored is not None  # rows are never deleted while the simulator runs
            if stored["request_hash"] != digest:
                raise Problem("idempotency-key-reused",
                              f"Idempotency-Key {key!r} was first used with another request")
            status, body, replayed = stored["status"], stored["body"], True
        else:
            status, body = await act(conn, current)
            replayed = False
            await conn.execute("UPDATE idempotency SET status = %s, body = %s "
                               "WHERE provider = %s AND key = %s",
                               (status, Jsonb(body), provider, key))
    sim.wake_sender.set()
    if current.timeout == "after":
        return hang(request, current.hang_ms)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return JSONResponse(body, status_code=status, headers=headers)
