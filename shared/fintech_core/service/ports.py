"""The unit of work port: one database transaction with the repositories bound to it. SQL
(db/uow.py) and in-memory (testing/memory.py) implementations; unit tests run every use case
against the fake, integration tests against PostgreSQL."""

from __future__ import annotations

from typing import Any, Protocol

from fintech_core.accounts.ports import AccountRepository
from fintech_core.idempotency.ports import IdempotencyStore
from fintech_core.transfers.ports import TransferRepository


class UnitOfWork(Protocol):
    """One database transaction. Leaving the context without commit() rolls back."""

    accounts: AccountRepository
    transfers: TransferRepository
    idempotency: IdempotencyStore

    def extension(self, name: str) -> Any:
        """A repository a later phase registered (e.g. the phase-1 ledger), bound to this
        transaction."""
        ...

    async def commit(self) -> None: ...
    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: object) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
