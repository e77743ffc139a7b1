"""The SQL adapters against the real PostgreSQL: locks, constraints, idempotency storage."""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from fintech_core.accounts.domain import Account, AccountStatus
from fintech_core.db.uow import SqlUnitOfWorkFactory
from fintech_core.domain.errors import IdempotencyKeyInFlight
from fintech_core.domain.ids import uuid7
from fintech_core.idempotency.ports import StoredResponse

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture(params=[False, True], ids=["statement-mode", "pipeline-mode"])
async def uow_factory(db0: str, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Every adapter test runs with and without psycopg pipeline mode (FINCORE_DB_PIPELINE)."""
    pool = AsyncConnectionPool(db0, min_size=2, max_size=4, open=False)
    await pool.open(wait=True)
    yield SqlUnitOfWorkFactory(pool, pipeline=request.param)
    await pool.close()


def account(balance: int = 0) -> Account:
    return Account(uuid7(), "t", "EUR", AccountStatus.ACTIVE, balance, datetime.now(UTC))


async def test_uncommitted_work_is_rolled_back(uow_factory, sql: psycopg.Connection) -> None:  # type: ignore[no-untyped-def]
    a = account()
    async with uow_factory() as uow:
        await uow.accounts.add(a)
    assert sql.execute("SELECT 1 FROM accounts WHERE id = %s", (a.id,)).fetchone() is None
    async with uow_factory() as uow:
        await uow.accounts.add(a)
        await uow.commit()
    assert sql.execute("SELECT 1 FROM accounts WHERE id = %s", (a.id,)).fetchone() == (1,)


async def test_balance_check_constraint_is_the_last_line_of_defence(uow_factory) -> None:  # type: ignore[no-untyped-def]
    a = account()
    async with uow_factory() as uow:
        await uow.accounts.add(a)
        await uow.commit()
    with pytest.raises(psycopg.errors.CheckViolation):
        async with uow_factory() as uow:
            await uow.accounts.apply_deltas({a.id: -1})
            await uow.commit()  # the write is held until here (db/write_behind.py)
    async with uow_factory() as uow:
        assert (await uow.accounts.get(a.id)).balance == 0


async def wait_for_sqlstate(fd: int, sqlstate: str, timeout: float = 10) -> None:
    """Wait until an ErrorResponse with `sqlstate` sits unread in the connection's socket.
    Peeking leaves the bytes for libpq; the SQLSTATE travels as the field `C<code>\\0`."""
    sock = socket.socket(fileno=os.dup(fd))  # our own descriptor: closing it keeps psycopg's
    try:
        for _ in range(int(timeout / 0.01)):
            try:
                pending = sock.recv(1 << 16, socket.MSG_PEEK | socket.MSG_DONTWAIT)
                if f"C{sqlstate}\0".encode() in pending:
                    return
            except BlockingIOError:
                pass
            await asyncio.sleep(0.01)
    finally:
        sock.close()
    raise AssertionError(f"no error {sqlstate} arrived in {timeout} s")


async def test_an_error_read_before_commit_surfaces_not_pipeline_aborted(db0: str) -> None:
    """The sequence behind a flaky `PipelineAborted`: in pipeline mode the server sends a failed
    statement's error at once, so it can reach our socket before COMMIT is sent. COMMIT then
    raises the CheckViolation before its Sync goes out, and the rollback that follows collects
    COMMIT's "pipeline aborted" result. Waiting for the error to arrive makes that order certain;
    the CheckViolation must surface and the connection must come back clean."""
    a = account()
    pool = AsyncConnectionPool(db0, min_size=1, max_size=1, open=False)
    await pool.open(wait=True)
    factory = SqlUnitOfWorkFactory(pool, pipeline=True)
    try:
        async with factory() as uow:
            await uow.accounts.add(a)
            await uow.commit()
        with pytest.raises(psycopg.errors.CheckViolation):
            async with factory() as uow:
                await uow.accounts.apply_deltas({a.id: -1})
                if uow.conn.raw.pgconn.ssl_in_use:
                    pytest.skip("the error cannot be seen in an encrypted stream")
                await uow.conn.flush()  # the UPDATE is sent, without a Sync
                await wait_for_sqlstate(uow.conn.raw.pgconn.socket, "23514")
                await uow.commit()
        async with factory() as uow:  # the one pooled connection, rolled back and usable
            assert (await uow.accounts.get(a.id)).balance == 0
    finally:
        await pool.close()


async def test_a_failed_rollback_never_hides_the_error_that_ended_the_work(uow_factory,  # type: ignore[no-untyped-def]
                                                                          db0: str) -> None:
    """The backend dies, then the work fails: the rollback fails too, but the caller sees the
    work's own error, and the pool lends a working connection next."""
    class WorkFailed(Exception):
        pass

    with pytest.raises(WorkFailed):
        async with uow_factory() as uow:
            await uow.accounts.get(uuid7())  # the transaction is open
            with psycopg.connect(db0, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (uow.conn.info.backend_pid,))
            raise WorkFailed
    async with uow_factory() as uow:
        assert await uow.accounts.get(uuid7()) is None


async def test_lock_returns_only_existing_accounts_in_id_order(uow_factory) -> None:  # type: ignore[no-untyped-def]
    made = [account() for _ in range(3)]
    async with uow_factory() as uow:
        for a in made:
            await uow.accounts.add(a)
        await uow.commit()
    async with uow_factory() as uow:
        locked = await uow.accounts.lock([made[2].id, uuid7(), made[0].id])
    assert list(locked) == sorted([made[0].id, made[2].id])


async def test_a_key_held_by_an_open_transaction_is_in_flight(uow_factory) -> None:  # type: ignore[no-untyped-def]
    key = str(uuid7())
    async with uow_factory() as first:
        assert await first.idempotency.claim("p", key) is None
        async with uow_factory() as second:
            with pytest.raises(IdempotencyKeyInFlight):
                await second.idempotency.claim("p", key)
        await first.idempotency.save("p", key, "fp", StoredResponse(201, {"a": 1}))
        await first.commit()
    async with uow_factory() as third:  # the lock died with the first transaction
        stored = await third.idempotency.claim("p", key)
    assert stored is not None
    assert stored.fingerprint == "fp" and stored.response.body == {"a": 1}


async def test_a_crashed_holder_never_leaves_a_key_stuck(uow_factory, db0: str) -> None:  # type: ignore[no-untyped-def]
    """The in-flight lock is transaction-scoped: kill the holder's backend and the key is free."""
    key = str(uuid7())
    holder = await psycopg.AsyncConnection.connect(db0)
    await holder.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))",
                         (f"p:{key}",))
    async with uow_factory() as uow:
        with pytest.raises(IdempotencyKeyInFlight):
            await uow.idempotency.claim("p", key)
    pid = holder.info.backend_pid
    with psycopg.connect(db0, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    await asyncio.sleep(0.2)
    async with uow_factory() as uow:
        assert await uow.idempotency.claim("p", key) is None
    await holder.close()


async def test_a_raced_key_is_retryable_wherever_it_surfaces(uow_factory) -> None:  # type: ignore[no-untyped-def]
    """In pipeline mode the key's primary-key violation may surface at the INSERT or at COMMIT;
    either way the unit of work reports it as the benign race (RetryTransaction, the driver's
    error as its cause), and no other unique violation is."""
    from fintech_core.service.retry import RetryTransaction

    key = str(uuid7())
    async with uow_factory() as uow:
        await uow.idempotency.save("p", key, "fp", StoredResponse(201, {}))
        await uow.commit()
    with pytest.raises(RetryTransaction) as raced:
        async with uow_factory() as uow:
            await uow.idempotency.save("p", key, "fp", StoredResponse(201, {}))
            await uow.commit()
    assert isinstance(raced.value.__cause__, psycopg.errors.UniqueViolation)
    a = account()
    with pytest.raises(psycopg.errors.UniqueViolation) as duplicate_account:
        async with uow_factory() as uow:
            await uow.accounts.add(a)
            await uow.accounts.add(a)
            await uow.commit()
    assert duplicate_account.value.diag.constraint_name != "idempotency_keys_pkey"
