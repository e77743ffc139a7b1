"""Read models: what the ledger's read side returns (balances, statements, details, verify)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from fintech_core.ledger.model import BucketTotals
from fintech_core.transfers.domain import Transfer


@dataclass(frozen=True)
class BalanceView(BucketTotals):
    account_id: UUID
    currency: str
    as_of: datetime | None  # None: now, from the projection
    posted: int
    pending_out: int  # reserved by open holds this account pays
    pending_in: int  # on its way from open holds
    credit_limit: int | None


@dataclass(frozen=True)
class StatementLine:
    seq: int  # the account's posting number: the cursor, newest first
    journal_id: UUID
    transfer_id: UUID
    kind: str
    direction: str
    amount: int
    balance_after: int  # the running posted balance, written with the posting
    created_at: datetime
    reference: str | None


@dataclass(frozen=True)
class PostingView:
    account_id: UUID
    account_name: str | None
    bucket: str
    direction: str
    amount: int
    currency: str
    balance_after: int


@dataclass(frozen=True)
class EntryView:
    id: UUID
    kind: str
    created_at: datetime
    effective_at: datetime
    postings: tuple[PostingView, ...]


@dataclass(frozen=True)
class StatusChange:
    from_status: str | None
    to_status: str
    at: datetime


@dataclass(frozen=True)
class TransferDetails:
    transfer: Transfer
    two_phase: bool
    expires_at: datetime | None
    posted_amount: int | None  # what actually moved (a partial post moves less than held)
    reverses_id: UUID | None
    reversed_by: UUID | None
    entries: tuple[EntryView, ...]
    history: tuple[StatusChange, ...]


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    customers: int
    system: int
    pending_out: int
    pending_in: int

    @property
    def balanced(self) -> bool:
        return self.customers + self.system == 0 and self.pending_out == self.pending_in


@dataclass(frozen=True)
class VerifyReport:
    """Every balance recomputed from postings, in one snapshot. `drift` counts every finding."""

    accounts: int
    journal_entries: int
    postings: int
    projection_drift: list[UUID] = field(default_factory=list)  # cached balance != sum
    mirror_drift: list[UUID] = field(default_factory=list)  # accounts.balance != posted
    unbalanced_entries: list[UUID] = field(default_factory=list)
    running_balance_breaks: int = 0  # postings whose balance_after is not the running sum
    hold_mismatches: list[UUID] = field(default_factory=list)  # pending != open holds
    transfer_mismatches: list[UUID] = field(default_factory=list)  # status vs postings
    totals: list[CurrencyTotal] = field(default_factory=list)

    @property
    def drift(self) -> int:
        return (len(self.projection_drift) + len(self.mirror_drift)
                + len(self.unbalanced_entries) + self.running_balance_breaks
                + len(self.hold_mismatches) + len(self.transfer_mismatches)
                + sum(not t.balanced for t in self.totals))
