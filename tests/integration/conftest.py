"""Integration fixtures: the phase-1 service wired to the real PostgreSQL of the session lab."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest

from fintech_core.bootstrap import bootstrap
from fintech_core.db.admin import drop_database
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from phases import composition
from tests.conftest import TEST_DB_PREFIX, phase_database
from tests.integration.events_support import EventsDb, events_db, ledger_client
from tests.integration.ledger_client import LedgerClient


@pytest.fixture(scope="session")
def db1(lab: Lab) -> str:
    return phase_database(lab, 1)


@pytest.fixture
def sql1(db1: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(db1, autocommit=True) as conn:
        yield conn


async def _client(settings: Settings, database_url: str) -> AsyncIterator[LedgerClient]:
    container = bootstrap(settings.model_copy(update={"phase": 1, "db_pool_min": 1,
                                                      "db_pool_max": 40}), composition(1))
    await container.open()
    try:
        yield LedgerClient(container, database_url)
    finally:
        await container.close()


@pytest.fixture
async def ledger(lab: Lab, db1: str) -> AsyncIterator[LedgerClient]:
    """The session's phase-1 database: tests add to it, and every test leaves it drift-free."""
    settings = lab.settings.model_copy(update={
        "database_url": lab.database_url(), "database_prefix": TEST_DB_PREFIX})
    async for client in _client(settings, db1):
        yield client


_scratch = itertools.count()


@pytest.fixture
async def scratch_ledger(lab: Lab) -> AsyncIterator[LedgerClient]:
    """A phase-1 database of its own, dropped afterwards: for tests that tamper with the ledger
    (disable a trigger, count every row), which must not leak into the shared database."""
    prefix = f"{TEST_DB_PREFIX}_scratch{next(_scratch)}"
    settings = lab.settings.model_copy(update={
        "database_url": lab.database_url(), "database_prefix": prefix})
    url = Lab(settings).prepare_database(composition(1))
    try:
        async for client in _client(settings, url):
            yield client
    finally:
        drop_database(lab.database_url(), f"{prefix}_p1")


@pytest.fixture
def db(lab: Lab) -> Iterator[EventsDb]:
    """Phase 2: a database of the test's own with the outbox, dropped afterwards."""
    yield from events_db(lab)


@pytest.fixture
async def client(db: EventsDb) -> AsyncIterator[LedgerClient]:
    """Phase 2: the service (phases 0..2) bound to that database."""
    async for c in ledger_client(db):
        yield c
