"""The write-behind connection on a real PostgreSQL: held writes travel together, in program order
across flushes, never outlive their transaction, and their errors surface at the flush."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from psycopg import errors

from fintech_core.db.write_behind import WriteBehindConnection

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


class CountingConnection(psycopg.AsyncConnection[Any]):
    """A real connection that counts the statements it sends (one per round trip here)."""

    sent: list[str]

    async def execute(self, query: Any, params: Any = None, **kw: Any) -> Any:  # type: ignore[override]
        self.sent.append(str(query))
        return await super().execute(query, params, **kw)


@pytest.fixture
async def conn(db0: str) -> AsyncIterator[CountingConnection]:
    with psycopg.connect(db0, autocommit=True) as setup:
        setup.execute("DROP TABLE IF EXISTS wb_a, wb_b")
        setup.execute("CREATE TABLE wb_a (seq bigint GENERATED ALWAYS AS IDENTITY, v text UNIQUE)")
        setup.execute("CREATE TABLE wb_b (v text)")
    c = await CountingConnection.connect(db0)
    c.sent = []
    try:
        yield c
    finally:
        await c.close()
        with psycopg.connect(db0, autocommit=True) as setup:
            setup.execute("DROP TABLE wb_a, wb_b")


def rows(db0: str, table: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(db0) as other:
        return other.execute(f"SELECT v FROM {table} ORDER BY 1").fetchall()


async def test_held_writes_to_different_tables_travel_as_one_statement_with_commit(
        conn: CountingConnection, db0: str) -> None:
    session = WriteBehindConnection(conn)
    await session.hold("wb_a", "INSERT INTO wb_a (v) VALUES (%s)", ("x",))
    await session.hold("wb_b", "INSERT INTO wb_b (v) VALUES (%s), (%s)", ("y", "z"))
    assert session.held == ["wb_a", "wb_b"] and conn.sent == []
    await session.commit()
    assert len(conn.sent) == 1 and conn.sent[0].startswith("WITH w0 AS (INSERT INTO wb_a")
    assert rows(db0, "wb_a") == [("x",)] and rows(db0, "wb_b") == [("y",), ("z",)]


async def test_a_read_flushes_first_so_it_sees_every_earlier_write(
        conn: CountingConnection) -> None:
    session = WriteBehindConnection(conn)
    await session.hold("wb_a", "INSERT INTO wb_a (v) VALUES (%s)", ("x",))
    cur = await session.execute("SELECT count(*) FROM wb_a")
    assert await cur.fetchone() == (1,) and session.held == []
    await session.rollback()


async def test_a_second_write_to_a_table_flushes_the_first_keeping_their_order(
        conn: CountingConnection) -> None:
    session = WriteBehindConnection(conn)
    for v in ("first", "second", "third"):
        await session.hold("wb_a", "INSERT INTO wb_a (v) VALUES (%s)", (v,))
    assert len(conn.sent) == 2  # first, second; third is still held
    cur = await session.execute("SELECT v FROM wb_a ORDER BY seq")
    assert await cur.fetchall() == [("first",), ("second",), ("third",)]
    await session.rollback()


async def test_rollback_drops_held_writes(conn: CountingConnection, db0: str) -> None:
    session = WriteBehindConnection(conn)
    await session.hold("wb_a", "INSERT INTO wb_a (v) VALUES (%s)", ("x",))
    await session.rollback()
    await session.commit()  # nothing left to send
    assert rows(db0, "wb_a") == [] and session.held == []


async def test_an_error_in_a_held_write_surfaces_at_commit_and_nothing_commits(
        conn: CountingConnection, db0: str) -> None:
    session = WriteBehindConnection(conn)
    await session.hold("wb_b", "INSERT INTO wb_b (v) VALUES (%s)", ("kept?",))
    await session.execute("INSERT INTO wb_a (v) VALUES ('dup')")
    await session.hold("wb_a", "INSERT INTO wb_a (v) VALUES (%s)", ("dup",))
    with pytest.raises(errors.UniqueViolation):
        await session.commit()
    await session.rollback()
    assert rows(db0, "wb_a") == [] and rows(db0, "wb_b") == []
