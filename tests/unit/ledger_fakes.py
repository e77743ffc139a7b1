"""A phase-1 unit of work over the in-memory LedgerBook, for unit tests of the ledger use cases.

The ledger ports' fakes are testing/memory_ledger*.py. The accounts and transfers repositories
here are minimal stand-ins for phase 0's ports over the same book (main's testing/memory.py
fakes them in full; this branch predates it). A transaction is a deep copy of the book, published
on commit and dropped otherwise, so "a refused command changes nothing" is testable.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from fintech_core.accounts.domain import Account
from fintech_core.testing.memory_ledger import MemoryLedger
from fintech_core.testing.memory_ledger_book import LedgerBook
from fintech_core.testing.memory_ledger_reads import MemoryLedgerReads
from fintech_core.transfers.domain import Transfer


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(microseconds=1)  # strictly increasing, like clock_timestamp()
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    def __deepcopy__(self, memo: dict[int, Any]) -> Clock:
        return self  # one clock for every copy of the book


class BookAccounts:
    def __init__(self, book: LedgerBook) -> None:
        self.book = book

    async def add(self, account: Account) -> None:
        self.book.accounts[account.id] = account

    async def get(self, account_id: UUID) -> Account | None:
        return self.book.accounts.get(account_id)

    async def lock(self, ids: Sequence[UUID]) -> dict[UUID, Account]:
        return {i: self.book.accounts[i] for i in sorted(set(ids)) if i in self.book.accounts}

    async def set_status(self, account: Account) -> None:
        self.book.accounts[account.id] = replace(self.book.accounts[account.id],
                                                 status=account.status)

    async def apply_deltas(self, deltas: Mapping[UUID, int]) -> None:
        raise AssertionError("phase 1 never writes the balance column")


class BookTransfers:
    def __init__(self, book: LedgerBook) -> None:
        self.book = book

    async def add(self, transfer: Transfer) -> None:
        await MemoryLedger(self.book).add_transfer(transfer, None)  # records history too

    async def get(self, transfer_id: UUID) -> Transfer | None:
        return self.book.transfers.get(transfer_id)


class FakeUnitOfWork:
    def __init__(self, factory: FakeUnitOfWorkFactory) -> None:
        self.factory = factory
        self.book = copy.deepcopy(factory.book)
        self.accounts = BookAccounts(self.book)
        self.transfers = BookTransfers(self.book)
        self.idempotency: Any = None

    def extension(self, name: str) -> Any:
        return {"ledger": MemoryLedger, "ledger_reads": MemoryLedgerReads}[name](self.book)

    async def commit(self) -> None:
        self.factory.book = self.book

    async def __aenter__(self) -> FakeUnitOfWork:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass  # without commit() the copy is dropped: the rollback


class FakeUnitOfWorkFactory:
    def __init__(self) -> None:
        self.clock = Clock()
        self.book = LedgerBook(clock=self.clock)

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)
