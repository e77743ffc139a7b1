"""Two-phase transfers (holds) and the transfer state machine.

    PENDING --post (amount <= held)--> COMPLETED
    PENDING --void-------------------> VOIDED
    PENDING --expiry (sweeper/touch)-> EXPIRED
    COMPLETED, FAILED, VOIDED, EXPIRED are final. A COMPLETED transfer is corrected by a new
    REVERSAL transfer that links to it, never by changing it.

The same table is enforced twice: here, to answer with a precise problem, and by a trigger on
`transfers`, so no code path (or psql session) can make an illegal move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from fintech_core.domain.money import Money
from fintech_core.ledger.errors import HoldExpired, PostExceedsHold, TransferNotPending
from fintech_core.transfers.domain import TransferStatus

S = TransferStatus
TRANSITIONS: dict[TransferStatus, frozenset[TransferStatus]] = {
    S.PENDING: frozenset({S.COMPLETED, S.VOIDED, S.EXPIRED}),
}


def can_move(current: TransferStatus, target: TransferStatus) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


@dataclass(frozen=True)
class Hold:
    transfer_id: UUID
    source_id: UUID
    destination_id: UUID
    amount: Money
    status: TransferStatus
    expires_at: datetime | None
    expired: bool  # expires_at <= now, evaluated by the database clock when the row was read

    def _require_open(self, action: str) -> None:
        if self.status is not S.PENDING:
            raise TransferNotPending(
                f"cannot {action} transfer {self.transfer_id}: it is {self.status.value}, and "
                f"only a PENDING hold can be posted or voided",
                transfer_id=str(self.transfer_id), transfer_status=self.status.value)
        if self.expired:
            raise HoldExpired(
                f"cannot {action} transfer {self.transfer_id}: the hold expired at "
                f"{self.expires_at.isoformat() if self.expires_at else '?'} and its funds are "
                f"released", transfer_id=str(self.transfer_id))

    def check_post(self, amount: Money) -> None:
        self._require_open("post")
        if amount > self.amount:
            raise PostExceedsHold(
                f"cannot post {amount} from a hold of {self.amount}",
                transfer_id=str(self.transfer_id), held=self.amount.minor, amount=amount.minor)

    def check_void(self) -> None:
        self._require_open("void")

    def due(self) -> bool:
        """Still PENDING but past its expiry: the sweeper (or the next touch) releases it."""
        return self.status is S.PENDING and self.expired
