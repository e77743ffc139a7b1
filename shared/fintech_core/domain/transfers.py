"""Transfers as resources with a state, so a client that timed out can ask what happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from fintech_core.domain.errors import SameAccount


class TransferStatus(StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class TransferKind(StrEnum):
    TRANSFER = "TRANSFER"
    DEPOSIT = "DEPOSIT"


@dataclass(frozen=True)
class TransferCommand:
    """A validated request to move `amount` minor units. Amount > 0 is enforced at the edge
    (schema) and again by a CHECK constraint; here we hold the rules that need two fields."""

    source_id: UUID | None  # None for a deposit: the money comes from outside the lab
    destination_id: UUID
    amount: int
    currency: str
    reference: str | None = None

    def __post_init__(self) -> None:
        if self.source_id is not None and self.source_id == self.destination_id:
            raise SameAccount("source and destination must be different accounts")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount <= 0:
            raise ValueError("amount must be a positive integer number of minor units")

    @property
    def kind(self) -> TransferKind:
        return TransferKind.DEPOSIT if self.source_id is None else TransferKind.TRANSFER


@dataclass(frozen=True)
class Transfer:
    id: UUID
    kind: TransferKind
    source_id: UUID | None
    destination_id: UUID
    amount: int
    currency: str
    status: TransferStatus
    reference: str | None
    failure_code: str | None
    created_at: datetime
