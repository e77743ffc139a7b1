"""Ledger values: accounts' balance buckets, postings, and balanced journal entries.

Sign convention: a posting's amount is signed from the account holder's side, credit + and
debit -, so a customer's balance is the plain sum of its postings. Every account has three
buckets:
- POSTED: settled money. `posted` = sum of POSTED postings.
- PENDING_OUT: reservations by holds the account pays. A hold debits it, its release credits it
  back, so `pending_out` (a non-negative reserved amount) = -sum of PENDING_OUT postings.
- PENDING_IN: money a hold will bring in. `pending_in` = sum of PENDING_IN postings.
Derived: available = posted - pending_out (what may be spent); pending = posted + pending_in -
pending_out (the balance once every open hold posts in full).

A journal entry balances twice, per currency: its POSTED postings sum to zero, and its pending
postings (both pending buckets together) sum to zero. That is what makes the whole ledger sum to
zero at every commit, which `verify` re-checks from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from fintech_core.domain.money import Money
from fintech_core.ledger.errors import UnbalancedEntry


class Bucket(StrEnum):
    POSTED = "POSTED"
    PENDING_OUT = "PENDING_OUT"
    PENDING_IN = "PENDING_IN"


class EntryKind(StrEnum):
    TRANSFER = "TRANSFER"
    DEPOSIT = "DEPOSIT"
    WITHDRAWAL = "WITHDRAWAL"
    HOLD = "HOLD"  # reserve: pending buckets only
    POST = "POST"  # release the reservation and move the posted amount, atomically
    VOID = "VOID"  # release the reservation
    EXPIRE = "EXPIRE"  # release the reservation, effective at the hold's expiry
    REVERSAL = "REVERSAL"  # the negation of a completed transfer's posted postings


@dataclass(frozen=True)
class Posting:
    account_id: UUID
    bucket: Bucket
    amount: Money  # signed, never zero

    def __post_init__(self) -> None:
        if self.amount.is_zero():
            raise UnbalancedEntry("a posting of zero moves nothing and is refused")

    @property
    def direction(self) -> str:
        return "DEBIT" if self.amount.minor < 0 else "CREDIT"

    def available_effect(self) -> int:
        """How this posting changes the account's available balance (see the module doc)."""
        return 0 if self.bucket is Bucket.PENDING_IN else self.amount.minor


@dataclass(frozen=True)
class JournalEntry:
    id: UUID
    transfer_id: UUID
    kind: EntryKind
    postings: tuple[Posting, ...]
    effective_at: datetime | None = None  # None: when written. Only expiries are backdated.

    def __post_init__(self) -> None:
        if len(self.postings) < 2:
            raise UnbalancedEntry("a journal entry needs at least two postings")
        totals: dict[tuple[str, bool], Money] = {}
        for p in self.postings:
            key = (p.amount.currency, p.bucket is Bucket.POSTED)
            totals[key] = totals[key] + p.amount if key in totals else p.amount
        unbalanced = {k: v for k, v in totals.items() if not v.is_zero()}
        if unbalanced:
            raise UnbalancedEntry(f"entry {self.id} does not balance: {unbalanced}")

    def in_apply_order(self) -> tuple[Posting, ...]:
        """Postings that raise an account's available balance first, so that the database's
        per-row overdraft CHECK never sees a debit before the release that pays for it."""
        return tuple(sorted(self.postings, key=lambda p: -p.available_effect()))


class BucketTotals:
    """What the three bucket sums mean, defined once for the ledger account (write side) and the
    balance view (read side). Not a dataclass: the subclasses declare the fields."""

    posted: int
    pending_out: int
    pending_in: int

    @property
    def available(self) -> int:
        return self.posted - self.pending_out

    @property
    def pending(self) -> int:
        return self.posted + self.pending_in - self.pending_out


@dataclass(frozen=True)
class LedgerAccount(BucketTotals):
    id: UUID
    currency: str
    name: str | None  # system accounts only, e.g. "@external:cash-in:EUR"
    posted: int
    pending_out: int
    pending_in: int
    credit_limit: int | None  # how far below zero `available` may go; None = unlimited
    version: int = 0  # number of postings applied; each posting gets the next one

    def applied(self, posting: Posting) -> LedgerAccount:
        delta = posting.amount.minor
        return LedgerAccount(
            self.id, self.currency, self.name,
            self.posted + (delta if posting.bucket is Bucket.POSTED else 0),
            self.pending_out - (delta if posting.bucket is Bucket.PENDING_OUT else 0),
            self.pending_in + (delta if posting.bucket is Bucket.PENDING_IN else 0),
            self.credit_limit, self.version + 1,
        )
