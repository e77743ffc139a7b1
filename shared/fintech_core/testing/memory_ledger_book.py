"""The in-memory ledger's "tables", shared by the fakes of both ledger ports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from fintech_core.accounts.domain import Account
from fintech_core.ledger.model import JournalEntry, LedgerAccount, Posting
from fintech_core.transfers.domain import Transfer


@dataclass(frozen=True)
class PostingRow:
    entry: JournalEntry
    posting: Posting
    seq: int
    balance_after: int
    created_at: datetime
    effective_at: datetime


@dataclass
class LedgerBook:
    """The "tables". Copy it (copy.deepcopy) to begin a transaction."""

    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    accounts: dict[UUID, Account] = field(default_factory=dict)
    transfers: dict[UUID, Transfer] = field(default_factory=dict)
    ledger: dict[UUID, LedgerAccount] = field(default_factory=dict)
    postings: list[PostingRow] = field(default_factory=list)
    holds: dict[UUID, tuple[datetime | None, datetime]] = field(default_factory=dict)
    reverses: dict[UUID, UUID] = field(default_factory=dict)  # original -> its reversal
    history: list[tuple[UUID, str | None, str, datetime]] = field(default_factory=list)
