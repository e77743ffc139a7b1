"""The Account entity and the rules about who may send and receive money."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from fintech_core.domain.errors import AccountClosed, AccountFrozen, AccountNotEmpty


class AccountStatus(StrEnum):
    ACTIVE = "ACTIVE"
    FROZEN = "FROZEN"
    CLOSED = "CLOSED"


@dataclass(frozen=True)
class Account:
    id: UUID
    owner: str
    currency: str
    status: AccountStatus
    balance: int  # minor units; phase 0 keeps it as a column, phase 1 derives it from postings
    created_at: datetime

    def require_movable(self) -> None:
        """Frozen and closed accounts neither send nor receive: a freeze is a compliance stop."""
        if self.status is AccountStatus.FROZEN:
            raise AccountFrozen(f"account {self.id} is frozen", account_id=str(self.id))
        if self.status is AccountStatus.CLOSED:
            raise AccountClosed(f"account {self.id} is closed", account_id=str(self.id))

    def frozen(self) -> Account:
        if self.status is AccountStatus.CLOSED:
            raise AccountClosed(f"account {self.id} is closed", account_id=str(self.id))
        return replace(self, status=AccountStatus.FROZEN)

    def unfrozen(self) -> Account:  # unfreezing an ACTIVE account is a harmless no-op
        if self.status is AccountStatus.CLOSED:
            raise AccountClosed(f"account {self.id} is closed", account_id=str(self.id))
        return replace(self, status=AccountStatus.ACTIVE)

    def closed(self) -> Account:
        """Closing is allowed only at a zero balance, so no money is ever stranded. Closing a
        closed account is a no-op, so a retried close is safe."""
        if self.status is AccountStatus.CLOSED:
            return self
        if self.balance != 0:
            raise AccountNotEmpty(
                f"account {self.id} holds {self.balance} minor units; empty it before closing",
                account_id=str(self.id), balance=self.balance,
            )
        return replace(self, status=AccountStatus.CLOSED)
