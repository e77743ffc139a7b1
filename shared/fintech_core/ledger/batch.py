"""The ledger in a group-commit batch (Phase.batch_extensions, see transfers/batch.py): its locks
answered from the batch's snapshot, which every appended entry keeps current.

`lock_with_accounts` is the transfer pipeline's lock (ledger/steps.py). In the collecting pass
it records what it would lock and stops the transfer; `lock_collected` locks the union (accounts
rows, then ledger rows, each in id order) in one statement; then each transfer gets its rows from
the snapshot. `append` applies the entry's postings to the snapshot in the order the posting
trigger will apply them (LedgerAccount.applied, the same arithmetic `simulate` uses), so the next
transfer's `check_ledger` sees the balances this batch has already moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from fintech_core.accounts.domain import Account
from fintech_core.ledger.model import JournalEntry, LedgerAccount
from fintech_core.transfers.batch import LocksCollected


class BatchLedger:
    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.collecting = False
        self._want_accounts: set[UUID] = set()
        self._want_ids: set[UUID] = set()
        self._want_paying: set[UUID] = set()
        self._accounts: dict[UUID, Account] = {}
        self._ledger: dict[UUID, LedgerAccount] = {}
        # Rows the lock statement returned beyond those asked for: the payees of overdue holds,
        # locked so that "release on touch" can expire those holds (ledger/planning.py).
        self._extra: set[UUID] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def lock_with_accounts(
            self, account_ids: Sequence[UUID], ids: Sequence[UUID], paying: Sequence[UUID] = (),
    ) -> tuple[dict[UUID, Account], dict[UUID, LedgerAccount]]:
        if self.collecting:
            self._want_accounts.update(account_ids)
            self._want_ids.update(ids)
            self._want_paying.update(paying)
            raise LocksCollected
        if any(a not in self._accounts for a in account_ids) or any(
                i not in self._ledger for i in ids):
            await self._take(account_ids, ids, paying)
        accounts = {a: self._accounts[a] for a in account_ids if a in self._accounts}
        ledger = {i: self._ledger[i] for i in (*ids, *self._extra) if i in self._ledger}
        return accounts, ledger

    async def lock(self, ids: Sequence[UUID],
                   paying: Sequence[UUID] = ()) -> dict[UUID, LedgerAccount]:
        if self.collecting:
            self._want_ids.update(ids)
            self._want_paying.update(paying)
            raise LocksCollected
        if any(i not in self._ledger for i in ids):
            self._ledger.update(await self._inner.lock(ids, paying))
        return {i: self._ledger[i] for i in (*ids, *self._extra) if i in self._ledger}

    async def _take(self, account_ids: Sequence[UUID], ids: Sequence[UUID],
                    paying: Sequence[UUID]) -> None:
        # A read: the write-behind connection flushes the batch's held writes first, so the
        # rows come back with this batch's earlier effects applied, equal to the snapshot's.
        accounts, ledger = await self._inner.lock_with_accounts(
            sorted(account_ids), sorted(ids), sorted(paying))
        self._accounts.update(accounts)
        self._extra.update(set(ledger) - set(ids))
        self._ledger.update(ledger)

    async def lock_collected(self) -> None:
        self.collecting = False
        if self._want_ids or self._want_accounts:
            await self._take(list(self._want_accounts), list(self._want_ids),
                             list(self._want_paying))

    async def append(self, entry: JournalEntry) -> None:
        for posting in entry.in_apply_order():
            self._ledger[posting.account_id] = self._ledger[posting.account_id].applied(posting)
        await self._inner.append(entry)
