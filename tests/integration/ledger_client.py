"""Drive the phase-1 use cases the way the API does (one unit of work, retries, idempotency),
without HTTP: integration tests exercise the service and the real database, nothing else."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import psycopg

from fintech_core.container import Container
from fintech_core.idempotency.ports import StoredResponse
from fintech_core.ledger import reversals, service
from fintech_core.ledger.steps import HoldRequest, LedgerWork
from fintech_core.ledger.views import BalanceView, StatementLine, TransferDetails, VerifyReport
from fintech_core.service.ports import UnitOfWork
from fintech_core.service.retry import with_retries
from fintech_core.transfers.domain import TransferCommand
from fintech_core.transfers.service import TransferOutcome

T = TypeVar("T")


class LedgerClient:
    def __init__(self, container: Container, database_url: str) -> None:
        self.c = container
        self.database_url = database_url

    async def tx(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """One committed transaction, retried whole on serialization failures and deadlocks."""
        async def attempt() -> T:
            async with self.c.uow_factory() as uow:
                result = await work(uow)
                await uow.commit()
                return result
        return await with_retries(attempt)

    async def read(self, work: Callable[[Any], Awaitable[T]]) -> T:
        async with self.c.uow_factory() as uow:
            return await work(uow.extension("ledger_reads"))

    # --- commands -------------------------------------------------------------------------
    async def open(self, owner: str = "alice", currency: str = "EUR", credit_limit: int = 0,
                   funded: int = 0) -> UUID:
        account = await self.tx(lambda u: service.open_account(u, owner, currency, credit_limit))
        if funded:
            await self.move(None, account.id, funded, currency)
        return account.id

    async def move(self, source: UUID | None, destination: UUID | None, amount: int,
                   currency: str = "EUR", hold_seconds: int | None = None,
                   hold: bool = False) -> TransferOutcome:
        command = TransferCommand(source, destination, amount, currency)
        parts = [LedgerWork(hold=HoldRequest(hold_seconds))] if hold or hold_seconds else []
        return await self.tx(lambda u: self.c.transfers.execute(u, command, "tests", parts))

    async def keyed_move(self, source: UUID, destination: UUID, amount: int,
                         key: str | None = None) -> StoredResponse:
        """A transfer exactly as POST /transfers runs it: Idempotency-Key, one transaction."""
        from fintech_core.api.responses import transfer_response
        from fintech_core.idempotency.runner import run_idempotently

        command = TransferCommand(source, destination, amount, "EUR")

        async def operation(uow: UnitOfWork) -> StoredResponse:
            return transfer_response(await self.c.transfers.execute(uow, command, "tests"))

        response, _ = await run_idempotently(self.c.uow_factory, "tests",
                                             key or str(uuid.uuid4()), "fp", operation)
        return response

    async def post(self, transfer_id: UUID, amount: int | None = None) -> None:
        await self.tx(lambda u: service.post(u, transfer_id, amount))

    async def void(self, transfer_id: UUID) -> None:
        await self.tx(lambda u: service.void(u, transfer_id))

    async def reverse(self, transfer_id: UUID) -> UUID:
        return (await self.tx(lambda u: reversals.reverse(u, transfer_id, None))).id

    # --- reads ----------------------------------------------------------------------------
    async def balance(self, account_id: UUID, as_of: datetime | None = None) -> BalanceView:
        view = await self.read(lambda r: r.balance(account_id, as_of))
        assert view is not None
        return view

    async def statement(self, account_id: UUID, before: int | None = None,
                        limit: int = 50) -> list[StatementLine]:
        return await self.read(lambda r: r.statement(account_id, before, limit))

    async def details(self, transfer_id: UUID) -> TransferDetails:
        found = await self.read(lambda r: r.details(transfer_id))
        assert found is not None
        return found

    async def verify(self) -> VerifyReport:
        return await self.read(lambda r: r.verify())

    def sql(self, query: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def db_now(self) -> datetime:
        return self.sql("SELECT clock_timestamp()")[0][0]  # type: ignore[no-any-return]
