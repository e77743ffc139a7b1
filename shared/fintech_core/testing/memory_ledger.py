"""In-memory fake of the ledger's write port (`LedgerRepository`), for unit tests.

It keeps the SQL schema's guarantees, raising what PostgreSQL raises: balances move only by
appending postings; an overdraft or a negative reservation is a CheckViolation; a transfer moves
only along the state machine; a second reversal is a UniqueViolation. All tables live in one
`LedgerBook`, which a unit of work copies on entry and publishes on commit (see
tests/unit/ledger_fakes.py), so a rolled-back command changes nothing. Not modelled: locks and
concurrency (a fake never interleaves two transactions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from uuid import UUID

from psycopg.errors import CheckViolation, ObjectNotInPrerequisiteState, UniqueViolation

from fintech_core.accounts.domain import Account
from fintech_core.domain.money import Money
from fintech_core.ledger.holds import Hold, can_move
from fintech_core.ledger.model import Bucket, JournalEntry, LedgerAccount, Posting
from fintech_core.ledger.system import SystemAccount
from fintech_core.testing.memory_ledger_book import LedgerBook, PostingRow
from fintech_core.transfers.domain import Transfer, TransferStatus


class MemoryLedger:
    def __init__(self, book: LedgerBook) -> None:
        self.book = book

    async def open_account(self, account_id: UUID, currency: str, credit_limit: int) -> None:
        if account_id in self.book.ledger:
            raise UniqueViolation(f"ledger account {account_id} exists")
        self.book.ledger[account_id] = LedgerAccount(account_id, currency, None, 0, 0, 0,
                                                     credit_limit)

    async def ensure_system(self, accounts: Sequence[SystemAccount]) -> None:
        for a in accounts:
            self.book.ledger.setdefault(a.id, LedgerAccount(a.id, a.currency, a.name, 0, 0, 0,
                                                            None))

    async def lock(self, ids: Sequence[UUID],
                   paying: Sequence[UUID] = ()) -> dict[UUID, LedgerAccount]:
        wanted = set(ids) | {h.destination_id for h in await self.overdue_holds(paying)}
        return {i: self.book.ledger[i] for i in sorted(wanted) if i in self.book.ledger}

    async def lock_with_accounts(
            self, account_ids: Sequence[UUID], ids: Sequence[UUID], paying: Sequence[UUID] = (),
    ) -> tuple[dict[UUID, Account], dict[UUID, LedgerAccount]]:
        accounts = {i: self.book.accounts[i] for i in sorted(set(account_ids))
                    if i in self.book.accounts}
        return accounts, await self.lock(ids, paying)

    async def overdue_holds(self, paying: Sequence[UUID]) -> list[Hold]:
        holds = [await self.hold(t) for t in self.book.holds]
        return [h for h in holds if h and h.due() and h.source_id in paying]

    async def append(self, entry: JournalEntry) -> None:
        now = self.book.clock()
        for posting in entry.in_apply_order():  # as the trigger: each row checked on its own
            before = self.book.ledger[posting.account_id]
            after = before.applied(posting)
            if after.pending_out < 0 or after.pending_in < 0:
                raise CheckViolation(f"{after.id}: a release without a reservation")
            if after.credit_limit is not None and after.available < -after.credit_limit:
                raise CheckViolation(f"{after.id}: ledger_accounts_overdraft")
            self.book.ledger[after.id] = after
            value = {Bucket.POSTED: after.posted, Bucket.PENDING_OUT: after.pending_out,
                     Bucket.PENDING_IN: after.pending_in}[posting.bucket]
            self.book.postings.append(PostingRow(entry, posting, after.version, value, now,
                                                 entry.effective_at or now))
            account = self.book.accounts.get(after.id)
            if account is not None and posting.bucket is Bucket.POSTED:  # the balance mirror
                self.book.accounts[after.id] = replace(account, balance=after.posted)

    async def add_transfer(self, transfer: Transfer, reverses_id: UUID | None) -> None:
        if reverses_id is not None:
            if reverses_id in self.book.reverses:
                raise UniqueViolation(f"transfer {reverses_id} is already reversed")
            self.book.reverses[reverses_id] = transfer.id
        self.book.transfers[transfer.id] = transfer
        self.book.history.append((transfer.id, None, transfer.status.value, self.book.clock()))

    async def add_hold(self, transfer_id: UUID, timeout_seconds: int | None) -> None:
        now = self.book.clock()
        expires = None if timeout_seconds is None else now + timedelta(seconds=timeout_seconds)
        self.book.holds[transfer_id] = (expires, now)

    async def hold(self, transfer_id: UUID, lock: bool = False) -> Hold | None:
        if transfer_id not in self.book.holds:
            return None
        t, (expires, _) = self.book.transfers[transfer_id], self.book.holds[transfer_id]
        assert t.source_id is not None and t.destination_id is not None
        return Hold(t.id, t.source_id, t.destination_id, Money(t.amount, t.currency), t.status,
                    expires, expires is not None and expires <= self.book.clock())

    async def set_status(self, transfer_id: UUID, status: TransferStatus) -> None:
        old = self.book.transfers[transfer_id]
        if not can_move(old.status, status):
            raise ObjectNotInPrerequisiteState(f"illegal transition {old.status} -> {status}")
        self.book.transfers[transfer_id] = replace(old, status=status)
        self.book.history.append((transfer_id, old.status.value, status.value, self.book.clock()))

    async def lock_transfer(self, transfer_id: UUID) -> Transfer | None:
        return self.book.transfers.get(transfer_id)

    async def reversal_of(self, transfer_id: UUID) -> UUID | None:
        return self.book.reverses.get(transfer_id)

    async def posted_postings(self, transfer_id: UUID) -> list[Posting]:
        net: dict[tuple[UUID, str], int] = {}
        for row in self.book.postings:
            p = row.posting
            if row.entry.transfer_id == transfer_id and p.bucket is Bucket.POSTED:
                key = (p.account_id, p.amount.currency)
                net[key] = net.get(key, 0) + p.amount.minor
        return [Posting(a, Bucket.POSTED, Money(v, c)) for (a, c), v in sorted(net.items()) if v]

    async def due_holds(self, limit: int) -> list[UUID]:
        holds = [await self.hold(t) for t in self.book.holds]
        return [h.transfer_id for h in holds if h and h.due()][:limit]
