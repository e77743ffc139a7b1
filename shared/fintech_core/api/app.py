"""The FastAPI application for a composed set of phases."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, cast

from fastapi import FastAPI

from fintech_core.api import docs, errors, openapi
from fintech_core.api.limits import RequestSizeLimit
from fintech_core.api.mount import composed_router
from fintech_core.api.routes import drill, health
from fintech_core.api.unhandled import UnhandledErrors
from fintech_core.auth.identity import SelfDeclared
from fintech_core.naive import routes as naive

if TYPE_CHECKING:
    from fintech_core.container import Container

log = logging.getLogger("fintech_core.api")

DESCRIPTION = """\
A teaching fintech core. Money is integer minor units. Requests that move money need an
`Idempotency-Key`. Every error is `application/problem+json` (RFC 9457) with a stable `code`.
"""


async def _reap_forever(container: Container) -> None:
    """Delete idempotency keys older than the retention window, on a timer. Losing a run is
    harmless: the next one deletes the same rows."""
    while True:
        await asyncio.sleep(container.settings.reaper_interval_seconds)
        try:
            deleted = await container.reap_keys()
            if deleted:
                log.info("reaped %d idempotency keys", deleted)
        except Exception:
            log.exception("idempotency key reaper failed; will retry")


def build_app(container: Container) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await container.open()
        tasks = [asyncio.create_task(_reap_forever(container))]
        tasks += [asyncio.create_task(task(container))
                  for task in container.composition.background_tasks]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await container.close()

    composition = container.composition
    app = FastAPI(
        title="Fintech Core Lab",
        version=f"phase-{composition.number}",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load their UI from a CDN: docs.py serves offline ones
        redoc_url=None,
    )
    app.state.container = container
    # Who is calling: the identity the composition declares (phase 4 verifies tokens), else
    # the core's self-declared caller (X-Client-Id). Every route asks it through require().
    app.state.identity = (composition.identity(container) if composition.identity
                          else SelfDeclared())
    app.state.problem_types = composition.problems  # what errors answer with and /problems serves
    errors.install(app)
    openapi.install(app)
    docs.install(app)
    if container.settings.naive_baseline:
        for middleware in composition.naive_middleware:  # innermost: after the size cap
            app.add_middleware(cast(Any, middleware))
    for middleware in composition.middleware:  # e.g. the rate limiter: after the size cap
        app.add_middleware(cast(Any, middleware))  # pure ASGI classes: Starlette's type is narrower
    app.add_middleware(RequestSizeLimit)
    app.add_middleware(UnhandledErrors)  # added last: outermost, so it also covers the size cap
    app.include_router(health.router())
    app.include_router(composed_router(composition))
    if container.settings.naive_baseline:
        app.include_router(naive.router())
        for naive_router in composition.naive_routers:  # each phase's own broken baseline
            app.include_router(naive_router())
    if container.settings.drill_mode:
        app.include_router(drill.router())
    return app
