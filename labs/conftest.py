"""Fixtures shared by every lab's tests: a real PostgreSQL database, a real Kafka-protocol broker
(started only when a lab asks for it) and the student's module.

The tests always come from the repository; the code under test comes from FINCORE_LAB_CODE,
which `fcl lab check` points at the student's workspace (and the proof tests point at the
generated starter and at the reference solution). See fintech_core.labs.database and
fintech_core.labs.broker for which servers are used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest

from fintech_core.labs.broker import lab_broker
from fintech_core.labs.database import lab_database


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with lab_database() as url:
        yield url


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    with lab_broker() as bootstrap:
        yield bootstrap


@pytest.fixture
def connect(database_url: str) -> Iterator[Callable[[], psycopg.Connection]]:
    """Open autocommit connections (one per thread in the concurrency tests); all are closed
    when the test ends, even if it failed halfway."""
    opened: list[psycopg.Connection] = []

    def open_one() -> psycopg.Connection:
        conn = psycopg.connect(database_url, autocommit=True)
        opened.append(conn)
        return conn

    yield open_one
    for conn in opened:
        conn.close()
