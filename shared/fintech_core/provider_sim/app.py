"""The simulator's ASGI app: its composition root (database, pool, secrets, sender loop).

HangMiddleware implements the timeout knobs: a route that asks to hang gets no reply at all;
after `hang_ms` the connection is closed without a status line, which is what a client sees
when a provider (or a proxy in front of it) times out mid-request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI

from fintech_core.provider_sim import admin, db, problems
from fintech_core.provider_sim.http import Sim, open_pool
from fintech_core.provider_sim.personalities import PERSONALITIES
from fintech_core.provider_sim.secrets import load_or_create
from fintech_core.provider_sim.sender import Sender
from fintech_core.settings import Settings


class HangMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        flags: dict[str, Any] = {}
        scope["sim"] = flags

        async def maybe_hang(message: dict[str, Any]) -> None:
            if "hang_ms" not in flags:
                await send(message)
            elif message["type"] == "http.response.start":
                await asyncio.sleep(flags["hang_ms"] / 1000)
                drop_connection(receive)

        await self.app(scope, receive, maybe_hang)


def drop_connection(receive: Any) -> None:
    """Close the client's TCP connection with no reply. uvicorn's `receive` is a bound method
    of its request cycle, which holds the transport; marking the cycle disconnected stops
    uvicorn from answering 500 for the response we never started."""
    cycle = getattr(receive, "__self__", None)
    if cycle is None or not hasattr(cycle, "transport"):
        raise RuntimeError("the timeout knob needs uvicorn (its request cycle's transport)")
    cycle.disconnected = True
    cycle.transport.close()


def create_app(settings: Settings | None = None) -> Any:
    settings = settings or Settings()
    lab_dir = settings.lab_dir
    url = db.database_url(settings)
    sim = Sim(settings, open_pool(url), lab_dir, load_or_create(lab_dir))

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await sim.pool.open(wait=True)
        async with sim.connection() as conn:
            await conn.execute(db.SCHEMA)
        sender = Sender(sim)
        task = asyncio.create_task(sender.run(), name="provider-sim-sender")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await sender.close()
            await sim.pool.close()

    app = FastAPI(title="Provider simulator (ledgerpay, stripeish)", lifespan=lifespan)
    problems.install(app)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    for personality in PERSONALITIES.values():
        app.include_router(personality.router(sim))
    app.include_router(admin.router(sim))
    return HangMiddleware(app)
