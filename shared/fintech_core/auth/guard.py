"""Ownership checks the routes share: "may this caller reach this account / transfer?"

Each answers the very NotFound a missing id answers (deps.owned_or_404). A caller holding the
"any" variant of the permission (support, auditor, phases 0..3's self-declared caller) passes
without a query; a customer costs one indexed read of the account's holder, outside the money's
transaction, which is safe because a holder never changes (migration p4_0002).
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from fintech_core.auth import access
from fintech_core.auth.deps import owned_or_404
from fintech_core.auth.principals import REACHES_ANY, Permission, Principal
from fintech_core.domain.errors import AccountNotFound, NotFound, TransferNotFound
from fintech_core.service.ports import UnitOfWorkFactory


def reaches_any(principal: Principal, permission: Permission) -> bool:
    wider = REACHES_ANY.get(permission)
    return wider is not None and principal.may(wider)


async def holder_of(uow_factory: UnitOfWorkFactory, account_id: UUID) -> str | None:
    async with uow_factory() as uow:
        return await uow.extension(access.EXTENSION).account_holder(account_id)  # type: ignore[no-any-return]


async def require_account(uow_factory: UnitOfWorkFactory, principal: Principal,
                          permission: Permission, account_id: UUID) -> None:
    """Pass, or raise AccountNotFound exactly as for an account that does not exist."""
    if reaches_any(principal, permission):
        return
    owned_or_404(principal, permission, await holder_of(uow_factory, account_id),
                 AccountNotFound(f"account {account_id} does not exist",
                                 account_id=str(account_id)))


async def require_any_party(uow_factory: UnitOfWorkFactory, principal: Principal,
                            permission: Permission, account_ids: Iterable[UUID | None],
                            not_found: NotFound) -> None:
    """A transfer (or payment) is visible to the holder of either of its accounts."""
    if reaches_any(principal, permission):
        return
    async with uow_factory() as uow:
        reach = uow.extension(access.EXTENSION)
        for account_id in account_ids:
            if account_id is not None and (
                    await reach.account_holder(account_id) == principal.subject):
                return
    raise not_found


async def require_transfer_source(uow_factory: UnitOfWorkFactory, principal: Principal,
                                  permission: Permission, transfer_id: UUID) -> None:
    """Commands on an existing transfer (post or void a hold) belong to its source's holder."""
    if reaches_any(principal, permission):
        return
    async with uow_factory() as uow:
        transfer = await uow.transfers.get(transfer_id)
        holder = (await uow.extension(access.EXTENSION).account_holder(transfer.source_id)
                  if transfer is not None and transfer.source_id is not None else None)
    owned_or_404(principal, permission, holder,
                 TransferNotFound(f"transfer {transfer_id} does not exist"))
