"""Who holds which object: the unit-of-work extension "access", asked by every route that reads
or moves an account's money.

Through phase 3 accounts have no holder (`NoHolders`, the core's default): the self-declared
caller holds every "any" permission, so no check ever needs one. Phase 4 declares `SqlAccess`
(auth/access_sql.py): each account records the subject that opened it, and a customer reaches
only the accounts they hold (deps.owned_or_404). An account's holder never changes, so a route
may check it before the transaction that moves the money without a race.
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from fintech_core.accounts.domain import Account

EXTENSION = "access"


class Access(Protocol):
    async def assign_account(self, account_id: UUID, subject: str) -> None:
        """Record who opened the account, in the transaction that opens it."""

    async def account_holder(self, account_id: UUID) -> str | None:
        """The subject that holds the account; None if it has none or does not exist."""

    async def page_accounts(self, subject: str, after: UUID | None, limit: int,
                            owner: str | None) -> list[Account]:
        """`accounts.page`, narrowed to the accounts `subject` holds."""

    async def audit(self, actor: str, action: str, object_id: UUID,
                    details: dict[str, Any]) -> None:
        """Record a privileged change (who, what, on which object), in the change's transaction."""


class NoHolders:
    """Phases 0..3: nobody holds anything, nothing is audited."""

    def __init__(self, conn: Any = None) -> None:
        del conn

    async def assign_account(self, account_id: UUID, subject: str) -> None:
        return None

    async def account_holder(self, account_id: UUID) -> str | None:
        return None

    async def page_accounts(self, subject: str, after: UUID | None, limit: int,
                            owner: str | None) -> list[Account]:
        return []

    async def audit(self, actor: str, action: str, object_id: UUID,
                    details: dict[str, Any]) -> None:
        return None
