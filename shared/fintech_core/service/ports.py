"""Ports: what the use cases need from persistence. SQL adapters and in-memory fakes implement
them; unit tests run every use case against the fakes, integration tests against PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from fintech_core.domain.accounts import Account
from fintech_core.domain.transfers import Transfer


@dataclass(frozen=True)
class StoredResponse:
    """The first response to an idempotent request, kept to be replayed byte-for-byte."""

    status: int
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredKey:
    fingerprint: str
    response: StoredResponse


class AccountRepository(Protocol):
    async def add(self, account: Account) -> None: ...
    async def get(self, account_id: UUID) -> Account | None: ...
    async def page(self, after: UUID | None, limit: int, owner: str | None) -> list[Account]: ...
    async def lock(self, ids: Sequence[UUID]) -> dict[UUID, Account]:
        """Lock the rows FOR UPDATE in ascending id order (so two transfers touching the same pair
        can never deadlock) and return the ones that exist."""
        ...
    async def set_status(self, account: Account) -> None: ...
    async def apply_deltas(self, deltas: Mapping[UUID, int]) -> None: ...


class TransferRepository(Protocol):
    async def add(self, transfer: Transfer) -> None: ...
    async def get(self, transfer_id: UUID) -> Transfer | None: ...


class IdempotencyStore(Protocol):
    async def claim(self, principal: str, key: str) -> StoredKey | None:
        """Take the in-flight lock for (principal, key) for the rest of the transaction, and
        return the stored response if the key was already used. Raises IdempotencyKeyInFlight
        when another transaction holds the key right now."""
        ...
    async def save(self, principal: str, key: str, fingerprint: str,
                   response: StoredResponse) -> None: ...
    async def reap(self, older_than_hours: int) -> int: ...


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
    async def __aexit__(self, *exc: object) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
