"""The SQL unit of work: one pooled connection, one transaction, the repositories bound to it.

The repositories share one WriteBehindConnection (db/write_behind.py): writes whose result nobody
reads travel together with the next read or with COMMIT, one round trip instead of one each."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from fintech_core.accounts.ports import AccountRepository
from fintech_core.accounts.sql import SqlAccounts
from fintech_core.db.errors import is_benign_race
from fintech_core.db.write_behind import WriteBehindConnection
from fintech_core.idempotency.ports import IdempotencyStore
from fintech_core.idempotency.sql import SqlIdempotencyStore
from fintech_core.service.retry import RetryTransaction
from fintech_core.transfers.ports import TransferRepository
from fintech_core.transfers.sql import SqlTransfers

logger = logging.getLogger(__name__)

ExtensionFactory = Callable[[WriteBehindConnection], Any]


class SqlUnitOfWork:
    def __init__(self, pool: AsyncConnectionPool,
                 extensions: Mapping[str, ExtensionFactory], pipeline: bool = False) -> None:
        self._pool = pool
        self._use_pipeline = pipeline
        self._extension_factories = extensions
        self._extensions: dict[str, Any] = {}
        self._conn: AsyncConnection | None = None
        self._session: WriteBehindConnection | None = None
        self._committed = False

    @property
    def conn(self) -> WriteBehindConnection:
        assert self._session is not None, "use the unit of work inside `async with`"
        return self._session

    async def __aenter__(self) -> SqlUnitOfWork:
        self._conn = await self._pool.getconn()
        # Optional pipeline mode (FINCORE_DB_PIPELINE): a statement whose result nobody reads is
        # not waited for; it travels with the next statement that needs an answer, or with
        # COMMIT. Errors then surface at that sync point instead of at the statement, which is
        # why no code path relies on catching a database error where it was caused (see
        # db/errors.py for the one race that is retried wherever it surfaces). Off by
        # default: on loopback it measured no gain (shared/fintech_core/bench/README.md).
        self._pipeline = self._conn.pipeline() if self._use_pipeline else None
        if self._pipeline is not None:
            await self._pipeline.__aenter__()
        self._session = WriteBehindConnection(self._conn)
        self.accounts: AccountRepository = SqlAccounts(self._session)
        self.transfers: TransferRepository = SqlTransfers(self._session)
        self.idempotency: IdempotencyStore = SqlIdempotencyStore(self._session)
        return self

    def extension(self, name: str) -> Any:
        if name not in self._extensions:
            self._extensions[name] = self._extension_factories[name](self.conn)
        return self._extensions[name]

    async def commit(self) -> None:
        await self.conn.commit()
        self._committed = True

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: object) -> None:
        await self._release(exc)
        if exc is not None and is_benign_race(exc):
            # Classified here, so the service layer's retry loop names no driver error.
            raise RetryTransaction(f"benign race: {type(exc).__name__}") from exc

    async def _release(self, exc: BaseException | None) -> None:
        conn, self._conn = self._conn, None
        session, self._session = self._session, None
        assert conn is not None and session is not None
        try:
            try:
                if not self._committed:
                    await session.rollback()  # also drops the held writes
            except Exception:
                if exc is None:
                    raise
                # The error that ended the work is the one the caller must see (a CheckViolation,
                # say), not a failure to clean up after it. A connection that could not roll back
                # is closed, so the pool discards it instead of lending out an open transaction.
                logger.warning("rollback failed after %r; connection discarded", exc, exc_info=True)
                await conn.close()
            finally:
                if self._pipeline is not None:
                    await self._pipeline.__aexit__(type(exc) if exc else None, exc,
                                                   exc.__traceback__ if exc else None)
        finally:
            await self._pool.putconn(conn)  # the pool discards a broken connection


class SqlUnitOfWorkFactory:
    def __init__(self, pool: AsyncConnectionPool,
                 extensions: Mapping[str, ExtensionFactory] | None = None,
                 pipeline: bool = False) -> None:
        self.pool = pool
        self.extensions = dict(extensions or {})
        self.pipeline = pipeline

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.pool, self.extensions, self.pipeline)
