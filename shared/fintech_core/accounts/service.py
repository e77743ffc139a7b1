"""Account use cases: open, read, page, freeze, unfreeze, close."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from fintech_core.accounts.domain import Account, AccountStatus
from fintech_core.domain.currency import require_currency
from fintech_core.domain.errors import AccountNotFound
from fintech_core.domain.ids import uuid7
from fintech_core.service.ports import UnitOfWork


async def open_account(uow: UnitOfWork, owner: str, currency: str) -> Account:
    account = Account(
        id=uuid7(), owner=owner, currency=require_currency(currency),
        status=AccountStatus.ACTIVE, balance=0, created_at=datetime.now(UTC),
    )
    await uow.accounts.add(account)
    return account


async def get_account(uow: UnitOfWork, account_id: UUID) -> Account:
    account = await uow.accounts.get(account_id)
    if account is None:
        raise AccountNotFound(f"account {account_id} does not exist", account_id=str(account_id))
    return account


async def change_status(uow: UnitOfWork, account_id: UUID,
                        transition: Callable[[Account], Account]) -> Account:
    """Lock the row first so a close cannot race a transfer that is crediting the account."""
    locked = await uow.accounts.lock([account_id])
    if account_id not in locked:
        raise AccountNotFound(f"account {account_id} does not exist", account_id=str(account_id))
    updated = transition(locked[account_id])
    await uow.accounts.set_status(updated)
    return updated


TRANSITIONS: dict[str, Callable[[Account], Account]] = {
    "freeze": Account.frozen,
    "unfreeze": Account.unfrozen,
    "close": Account.closed,
}
