"""The unit of work a group-commit batch hands to each of its transfers (transfers/group_commit.py).

One transaction runs N transfers' pipelines one after the other, in arrival order. What changes
for a step is only where a *lock* is answered from:

1. The collecting pass runs each transfer's pipeline up to its first lock, on this unit of work
   with `collecting` set: the lock records what it would lock and stops the transfer
   (`LocksCollected`). Only checks run before a lock, and checks write nothing.
2. `lock_collected` then locks the union in one statement per repository, in id order, as a
   single transfer does (so batches and single transfers lock in one global order).
3. The serving pass runs every pipeline for real. Each lock is answered from the locked snapshot,
   which the batch's own effects keep current (a balance moved by transfer 1 is what transfer 2's
   check sees), so the checks see exactly what they would see had the transfers run one by one.
   A lock the collecting pass did not foresee is taken then (the snapshot grows); it may run out
   of global order, and a deadlock is retried like any other (service/retry.py).

Safe because every row a check reads is locked from the collecting pass to COMMIT: no other
transaction can change it, so the snapshot plus this batch's own effects *is* the database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any
from uuid import UUID

from fintech_core.accounts.domain import Account
from fintech_core.service.ports import UnitOfWork


class LocksCollected(Exception):
    """Raised at a transfer's first lock during the collecting pass."""


class BatchAccounts:
    """The accounts repository, its `lock` served from the batch's snapshot."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.collecting = False
        self._wanted: set[UUID] = set()
        self._rows: dict[UUID, Account] = {}
        self._absent: set[UUID] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def lock(self, ids: Sequence[UUID]) -> dict[UUID, Account]:
        if self.collecting:
            self._wanted.update(ids)
            raise LocksCollected
        await self._take([i for i in ids if i not in self._rows and i not in self._absent])
        return {i: self._rows[i] for i in ids if i in self._rows}

    async def _take(self, ids: Sequence[UUID]) -> None:
        if ids:
            self._rows.update(await self._inner.lock(sorted(ids)))
            self._absent.update(i for i in ids if i not in self._rows)

    async def lock_collected(self) -> None:
        self.collecting = False
        await self._take(sorted(self._wanted))

    async def apply_deltas(self, deltas: Mapping[UUID, int]) -> None:
        for account_id, delta in deltas.items():
            row = self._rows[account_id]
            self._rows[account_id] = replace(row, balance=row.balance + delta)
        await self._inner.apply_deltas(deltas)


BatchWrapper = Callable[[Any], Any]  # an extension -> the same, locks served from a snapshot


class BatchUnitOfWork:
    """A unit of work for the transfers of one batch, over the batch's one transaction.
    `wrappers` (Phase.batch_extensions) wrap the extensions that lock rows (phase 1's ledger)."""

    def __init__(self, uow: UnitOfWork, wrappers: Mapping[str, BatchWrapper]) -> None:
        self._uow = uow
        self._wrappers = wrappers
        self._wrapped: dict[str, Any] = {}
        self.collecting = True
        self.accounts = BatchAccounts(uow.accounts)
        self.accounts.collecting = True
        self.transfers = uow.transfers
        self.idempotency = uow.idempotency

    def extension(self, name: str) -> Any:
        if name not in self._wrappers:
            return self._uow.extension(name)
        if name not in self._wrapped:
            wrapped = self._wrappers[name](self._uow.extension(name))
            wrapped.collecting = self.collecting
            self._wrapped[name] = wrapped
        return self._wrapped[name]

    async def lock_collected(self) -> None:
        self.collecting = False
        for locker in (self.accounts, *self._wrapped.values()):
            await locker.lock_collected()

    async def commit(self) -> None:
        await self._uow.commit()

    async def __aenter__(self) -> BatchUnitOfWork:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None
