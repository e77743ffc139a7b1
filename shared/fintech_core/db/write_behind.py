"""The unit of work's connection: reads go straight to PostgreSQL; writes nobody reads are held
and sent together, as one statement, when something needs the database.

Why: most statements of a transfer are INSERTs whose result nobody reads (the journal entry, its
postings, the transfer row, the idempotency record, the outbox event). Sent one by one, each costs
a round trip: a socket write and read, a wake-up of the event loop and psycopg's per-statement
work, about 0.1-0.25 ms of CPU on the benchmark machine, more than PostgreSQL spends running it
(shared/fintech_core/bench/README.md). Held, they travel as one statement of data-modifying CTEs
(`WITH w0 AS (INSERT ...), w1 AS (INSERT ...) SELECT`), like an ORM's flush.

What is guaranteed:
- Program order across a flush: every statement sent with `execute` (a read, a lock, a write that
  must run now) first flushes the held writes, so it sees all of them; COMMIT flushes too, and a
  rollback discards them. Nothing held can outlive its transaction.
- Within one flush the writes run in an unspecified order and do not see each other's rows, as
  PostgreSQL runs sibling CTEs. Constraints still see them all: foreign keys and row triggers'
  follow-ups are checked at the end of the statement, deferred ones at COMMIT. So only a write
  that needs nothing from another held write may be held, and at most one per table: a second
  write to a table flushes the first (two postings inserts, say, keep their order).
- An error in a held write surfaces at the flush (the next `execute` or COMMIT), not where the
  write was made. No code path catches a database error at its statement; the one race that
  matters (a concurrent idempotency record) is retried wherever it surfaces (db/errors.py).

Rows (`hold_rows`): a write whose parameters are all arrays, one element per row (`INSERT ...
SELECT ... FROM unnest(%s::uuid[], ...)`). A group-commit batch (transfers/group_commit.py) turns
on `merge_rows`: a second `hold_rows` of the *same* statement then appends its rows to the held
ones instead of flushing them, so a batch of N transfers writes each table in one statement, its
rows in the order they were held (the statements keep that order with `WITH ORDINALITY ...
ORDER BY`). Without `merge_rows` it behaves exactly like `hold`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from psycopg import AsyncConnection, AsyncCursor
from psycopg.errors import PipelineAborted


class Session(Protocol):
    """What the SQL adapters need of a connection."""

    async def execute(self, query: Any, params: Any = None) -> AsyncCursor[Any]: ...

    async def hold(self, table: str, query: str, params: Sequence[Any]) -> None: ...

    async def hold_rows(self, table: str, query: str, columns: Sequence[list[Any]]) -> None: ...


class WriteBehindConnection:
    def __init__(self, conn: AsyncConnection) -> None:
        self.raw = conn
        self._held: dict[str, tuple[str, Sequence[Any]]] = {}  # table -> (query, params), in order
        self._rows: set[str] = set()  # tables whose held write is rows (its params are lists)
        self.merge_rows = False  # set by a group-commit batch for the rest of its transaction

    @property
    def held(self) -> list[str]:
        """The tables with a write waiting for the next flush (for tests and curious readers)."""
        return list(self._held)

    async def hold(self, table: str, query: str, params: Sequence[Any]) -> None:
        """Hold an INSERT/UPDATE/DELETE with positional (%s) parameters and no WITH of its own,
        whose result nobody reads, until the next flush."""
        if table in self._held:
            await self.flush()
        self._held[table] = (query, params)

    async def hold_rows(self, table: str, query: str, columns: Sequence[list[Any]]) -> None:
        """Hold a write whose parameters are arrays of equal length, one element per row."""
        held = self._held.get(table)
        if self.merge_rows and held is not None and table in self._rows and held[0] == query:
            for mine, more in zip(held[1], columns, strict=True):
                mine.extend(more)
            return
        await self.hold(table, query, [list(c) for c in columns])
        self._rows.add(table)

    async def flush(self) -> None:
        if not self._held:
            return
        writes, self._held = list(self._held.values()), {}
        self._rows.clear()
        if len(writes) == 1:
            await self.raw.execute(*writes[0])
            return
        query = "WITH " + ", ".join(f"w{i} AS ({q})" for i, (q, _) in enumerate(writes)) + " SELECT"
        await self.raw.execute(query, [p for _, params in writes for p in params])

    async def execute(self, query: Any, params: Any = None) -> AsyncCursor[Any]:
        await self.flush()
        return await self.raw.execute(query, params)

    async def commit(self) -> None:
        await self.flush()
        await self.raw.commit()

    async def rollback(self) -> None:
        self._held.clear()
        self._rows.clear()
        try:
            await self.raw.rollback()
        except PipelineAborted:
            # Pipeline mode: the server sends an error at once, so it can be read while COMMIT
            # is being sent, before COMMIT's Sync. COMMIT is then still in flight, and rollback()'s
            # first Sync collects its "aborted" result and raises before sending ROLLBACK. That
            # Sync did end the aborted pipeline, so the second rollback() really rolls back.
            await self.raw.rollback()

    def __getattr__(self, name: str) -> Any:
        # Everything else (cursor, transaction, info, ...) is the connection's own. A cursor made
        # here bypasses the flush, so it is only for code that holds nothing (none does today).
        return getattr(self.raw, name)
