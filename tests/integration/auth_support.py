"""Shared by the phase-4 identity tests: the draft phase-4 manifest composed on top of the
registry (tests/phase4_draft.py), a database of its own per test module (migrated and seeded),
the app in-process over httpx's ASGI transport (real PostgreSQL, real Redis), or a real API
process of that composition."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx

from fintech_core.api.app import build_app
from fintech_core.auth.seed import seed_lab_identities
from fintech_core.bootstrap import bootstrap
from fintech_core.container import Container
from fintech_core.db.admin import drop_database
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port
from phases.phase04_auth import PHASE as DRAFT_PHASE_4
from tests.conftest import TEST_DB_PREFIX
from tests.phase4_draft import DRAFT_REGISTRY

COMPOSITION = DRAFT_REGISTRY.composition(DRAFT_PHASE_4.number)


def phase4_settings(lab: Lab, suffix: str, lab_dir: Path, **overrides: object) -> Settings:
    """Settings of a phase-4 lab on the session's servers, with its own database and lab dir
    (its own signing keys and seeded.json)."""
    return lab.settings.model_copy(update={
        "database_url": lab.database_url(), "redis_url": lab.redis_url(),
        "kafka_bootstrap": lab.kafka_bootstrap(),
        "database_prefix": f"{TEST_DB_PREFIX}_{suffix}", "phase": DRAFT_PHASE_4.number,
        "lab_dir": lab_dir, "db_pool_min": 1, "db_pool_max": 4, **overrides})


@contextmanager
def seeded_database(settings: Settings) -> Iterator[str]:
    """A freshly migrated and seeded phase-4 database, dropped afterwards."""
    own = Lab(settings)
    drop_database(settings.database_url, settings.database_name())  # type: ignore[arg-type]
    url = own.prepare_database(COMPOSITION)
    seed_lab_identities(settings, url)
    try:
        yield url
    finally:
        drop_database(settings.database_url, settings.database_name())  # type: ignore[arg-type]


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[Container]:
    container = bootstrap(settings, COMPOSITION)
    await container.open()
    try:
        yield container
    finally:
        await container.close()


@contextmanager
def api_process(lab: Lab, settings: Settings) -> Iterator[str]:
    """A real API process (uvicorn) of the draft composition on `settings`' database and lab
    dir; yields its base URL."""
    own = Lab(settings)
    server = own.api(COMPOSITION, port=free_port(), host="127.0.0.1")
    server.start()
    try:
        yield server.url()
    finally:
        server.stop()


def asgi_client(app: object, ip: str = "10.1.0.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 4000)),  # type: ignore[arg-type]
                             base_url="http://t")


def app_of(container: Container) -> object:
    return build_app(container)
