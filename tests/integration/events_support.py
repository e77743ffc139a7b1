"""Phase-2 test support: a fresh phase-2 database per test (its topics are named after it, so
tests sharing the session broker never see each other's events), and the relay and consumers
run in threads of the test process against the real PostgreSQL and broker."""

from __future__ import annotations

import itertools
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from fintech_core.bootstrap import bootstrap
from fintech_core.db.admin import drop_database
from fintech_core.events import ops
from fintech_core.events.registry import CONSUMERS
from fintech_core.events.relay import Relay, RelayConfig
from fintech_core.events.runner import ConsumerConfig, ConsumerRunner
from fintech_core.events.topics import topics_for
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import wait_until
from phases import composition
from tests.conftest import TEST_DB_PREFIX
from tests.integration.ledger_client import LedgerClient

_n = itertools.count()


@dataclass
class EventsDb:
    settings: Settings
    url: str

    def sql(self, query: str, params: tuple[object, ...] | None = None) -> list[tuple]:  # type: ignore[type-arg]
        with psycopg.connect(self.url, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def status(self) -> ops.Status:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return ops.status(conn)

    def caught_up(self) -> bool:
        st = self.status()
        return st.unpublished == 0 and all(c.behind <= c.dead for c in st.consumers)

    def wait_caught_up(self, timeout: float = 60) -> None:
        assert wait_until(self.caught_up, timeout, interval=0.2), self.status()

    def verify(self) -> ops.Verify:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return ops.verify(conn)


def events_db(lab: Lab) -> Iterator[EventsDb]:
    prefix = f"{TEST_DB_PREFIX}_ev{next(_n)}"
    settings = lab.settings.model_copy(update={
        "database_url": lab.database_url(), "kafka_bootstrap": lab.kafka_bootstrap(),
        "database_prefix": prefix, "phase": 2})
    url = Lab(settings).prepare_database(composition(2))
    try:
        yield EventsDb(settings, url)
    finally:
        drop_database(lab.database_url(), f"{prefix}_p2")


async def ledger_client(db: EventsDb) -> AsyncIterator[LedgerClient]:
    container = bootstrap(db.settings.model_copy(update={"db_pool_min": 1, "db_pool_max": 8}),
                          composition(2))
    await container.open()
    try:
        yield LedgerClient(container, db.url)
    finally:
        await container.close()


@dataclass
class Workers:
    relay: Relay
    consumers: list[ConsumerRunner]


@contextmanager
def running(db: EventsDb, bootstrap_servers: str | None = None,
            relay: bool = True, consumers: bool = True) -> Iterator[Workers]:
    s = db.settings
    where = bootstrap_servers or s.kafka_bootstrap
    assert where is not None
    topics = topics_for(s)
    the_relay = Relay(RelayConfig(db.url, where, topics, batch=200, poll_seconds=0.2))
    runners = [ConsumerRunner(h, ConsumerConfig(db.url, where, topics, backoff_ms=20))
               for h in CONSUMERS] if consumers else []
    targets: list[Callable[[], None]] = [c.run for c in runners]
    if relay:
        targets.append(the_relay.run)
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for t in threads:
        t.start()
    try:
        yield Workers(the_relay, runners)
    finally:
        the_relay.stop()
        for c in runners:
            c.stop()
        for t in threads:
            t.join(timeout=30)
