"""In-memory fake of the ledger's read port (`LedgerReads`), over the same LedgerBook.

Same answers as the SQL read side, computed in Python: overdue holds count as released on read,
as-of uses effective_at for the pending buckets, and verify recomputes everything from postings.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from uuid import UUID

from fintech_core.ledger.model import Bucket
from fintech_core.ledger.views import (
    BalanceView,
    CurrencyTotal,
    EntryView,
    PostingView,
    StatementLine,
    StatusChange,
    TransferDetails,
    VerifyReport,
)
from fintech_core.testing.memory_ledger_book import LedgerBook
from fintech_core.transfers.domain import TransferStatus

P, OUT, IN = Bucket.POSTED, Bucket.PENDING_OUT, Bucket.PENDING_IN


class MemoryLedgerReads:
    def __init__(self, book: LedgerBook) -> None:
        self.book = book

    def _overdue(self, account_id: UUID, side: str, at: datetime) -> int:
        return sum(t.amount for t in self.book.transfers.values()
                   if t.status is TransferStatus.PENDING and getattr(t, side) == account_id
                   and (exp := self.book.holds.get(t.id, (None, None))[0]) is not None
                   and exp <= at)

    async def balance(self, account_id: UUID, as_of: datetime | None) -> BalanceView | None:
        account = self.book.ledger.get(account_id)
        if account is None:
            return None
        at = as_of or self.book.clock()
        rows = [r for r in self.book.postings if r.posting.account_id == account_id]
        if as_of is None:
            posted, out, inc = account.posted, account.pending_out, account.pending_in
        else:
            done = [r for r in rows if r.posting.bucket is P and r.created_at <= at]
            posted = done[-1].balance_after if done else 0
            out = -sum(r.posting.amount.minor for r in rows
                       if r.posting.bucket is OUT and r.effective_at <= at)
            inc = sum(r.posting.amount.minor for r in rows
                      if r.posting.bucket is IN and r.effective_at <= at)
        return BalanceView(account_id, account.currency, as_of, posted,
                           out - self._overdue(account_id, "source_id", at),
                           inc - self._overdue(account_id, "destination_id", at),
                           account.credit_limit)

    async def statement(self, account_id: UUID, before_seq: int | None,
                        limit: int) -> list[StatementLine]:
        rows = [r for r in reversed(self.book.postings) if r.posting.account_id == account_id
                and r.posting.bucket is P and (before_seq is None or r.seq < before_seq)]
        return [StatementLine(r.seq, r.entry.id, r.entry.transfer_id, r.entry.kind.value,
                              r.posting.direction, abs(r.posting.amount.minor), r.balance_after,
                              r.created_at, self.book.transfers[r.entry.transfer_id].reference)
                for r in rows[:limit]]

    async def details(self, transfer_id: UUID) -> TransferDetails | None:
        t = self.book.transfers.get(transfer_id)
        if t is None:
            return None
        grouped: dict[UUID, list[PostingView]] = defaultdict(list)
        heads = {}
        for r in self.book.postings:
            if r.entry.transfer_id == transfer_id:
                heads[r.entry.id] = (r.entry.kind.value, r.created_at, r.effective_at)
                grouped[r.entry.id].append(PostingView(
                    r.posting.account_id, self.book.ledger[r.posting.account_id].name,
                    r.posting.bucket.value, r.posting.direction, abs(r.posting.amount.minor),
                    r.posting.amount.currency, r.balance_after))
        entries = tuple(EntryView(i, *heads[i], tuple(ps)) for i, ps in grouped.items())
        moved = sum(p.amount for e in entries for p in e.postings
                    if p.bucket == "POSTED" and p.direction == "CREDIT")
        reverses = next((o for o, r in self.book.reverses.items() if r == transfer_id), None)
        return TransferDetails(
            t, t.id in self.book.holds, self.book.holds.get(t.id, (None, None))[0],
            moved or None, reverses, self.book.reverses.get(t.id), entries,
            tuple(StatusChange(f, s, at) for i, f, s, at in self.book.history if i == t.id))

    async def verify(self) -> VerifyReport:
        sums: dict[tuple[UUID, Bucket], int] = defaultdict(int)
        counts: dict[UUID, int] = defaultdict(int)
        breaks = 0
        for r in self.book.postings:
            key = (r.posting.account_id, r.posting.bucket)
            sums[key] += r.posting.amount.minor
            counts[key[0]] += 1
            breaks += r.balance_after != (-sums[key] if key[1] is OUT else sums[key])
        open_holds = [t for t in self.book.transfers.values()
                      if t.id in self.book.holds and t.status is TransferStatus.PENDING]
        drift, holds = [], []
        totals: dict[str, tuple[int, int, int, int]] = {}
        for a in self.book.ledger.values():
            if (a.posted, a.pending_out, a.pending_in, a.version) != (
                    sums[a.id, P], -sums[a.id, OUT], sums[a.id, IN], counts[a.id]):
                drift.append(a.id)
            if (a.pending_out, a.pending_in) != (
                    sum(t.amount for t in open_holds if t.source_id == a.id),
                    sum(t.amount for t in open_holds if t.destination_id == a.id)):
                holds.append(a.id)
            c, s, o, i = totals.get(a.currency, (0, 0, 0, 0))
            totals[a.currency] = (c + (a.posted if a.name is None else 0),
                                  s + (a.posted if a.name else 0), o + a.pending_out,
                                  i + a.pending_in)
        mirror = [a.id for a in self.book.accounts.values()
                  if a.id not in self.book.ledger or a.balance != self.book.ledger[a.id].posted]
        return VerifyReport(
            len(self.book.ledger), len({r.entry.id for r in self.book.postings}),
            # Entries cannot be unbalanced here (JournalEntry refuses it) and statuses move only
            # through set_status, so those two SQL-only findings are always empty in the fake.
            len(self.book.postings), sorted(drift), sorted(mirror), [], breaks, sorted(holds),
            [], [CurrencyTotal(cur, *v) for cur, v in sorted(totals.items())])
