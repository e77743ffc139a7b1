"""Transfers as resources with a state, so a client that timed out can ask what happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from fintech_core.domain.errors import SameAccount


class TransferStatus(StrEnum):
    PENDING = "PENDING"  # phase 1: a hold, funds reserved
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    VOIDED = "VOIDED"  # phase 1: a hold released on request
    EXPIRED = "EXPIRED"  # phase 1: a hold released at its expiry


class TransferKind(StrEnum):
    TRANSFER = "TRANSFER"
    DEPOSIT = "DEPOSIT"
    WITHDRAWAL = "WITHDRAWAL"  # phase 1: money leaves the lab
    REVERSAL = "REVERSAL"  # phase 1: compensates a completed transfer


@dataclass(frozen=True)
class TransferCommand:
    """A validated request to move `amount` minor units. Amount > 0 is enforced at the edge
    (schema) and again by a CHECK constraint; here we hold the rules that need two fields."""

    source_id: UUID | None  # None for a deposit: the money comes from outside the lab
    destination_id: UUID | None  # None for a withdrawal (phase 1): the money leaves the lab
    amount: int
    currency: str
    reference: str | None = None

    def __post_init__(self) -> None:
        if self.source_id is not None and self.source_id == self.destination_id:
            raise SameAccount("source and destination must be different accounts")
        if self.source_id is None and self.destination_id is None:
            raise ValueError("a transfer needs a source, a destination, or both")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount <= 0:
            raise ValueError("amount must be a positive integer number of minor units")

    @property
    def kind(self) -> TransferKind:
        if self.source_id is None:
            return TransferKind.DEPOSIT
        return TransferKind.WITHDRAWAL if self.destination_id is None else TransferKind.TRANSFER


@dataclass(frozen=True)
class Transfer:
    id: UUID
    kind: TransferKind
    source_id: UUID | None
    destination_id: UUID | None
    amount: int
    currency: str
    status: TransferStatus
    reference: str | None
    failure_code: str | None
    created_at: datetime
