"""Ledger use cases on existing transfers and accounts: open, post, void, expire.

Lock order, the same everywhere (the pipeline included), which is why none of these can
deadlock with each other or with transfers: accounts rows, then ledger_accounts rows (ascending
id within each), then transfer rows. A use case first reads without locks to learn which rows it
needs, takes the locks in that order, then re-reads and re-checks under the locks.
"""

from __future__ import annotations

from uuid import UUID

from fintech_core.accounts import service as account_use_cases
from fintech_core.accounts.domain import Account
from fintech_core.domain.errors import TransferNotFound
from fintech_core.domain.money import Money
from fintech_core.ledger import entries
from fintech_core.ledger.errors import NotAHold
from fintech_core.ledger.holds import Hold
from fintech_core.ledger.model import EntryKind, JournalEntry, LedgerAccount
from fintech_core.ledger.policy import simulate
from fintech_core.ledger.ports import LedgerRepository
from fintech_core.ledger.system import SystemRole, system_account
from fintech_core.service.ports import UnitOfWork
from fintech_core.transfers.domain import TransferStatus


def ledger_of(uow: UnitOfWork) -> LedgerRepository:
    return uow.extension("ledger")  # type: ignore[no-any-return]


async def open_account(uow: UnitOfWork, owner: str, currency: str,
                       credit_limit: int = 0) -> Account:
    """Phase 0's account plus its ledger account, in one transaction. The system accounts of the
    currency are created here too, so later deposits and withdrawals only ever read them."""
    account = await account_use_cases.open_account(uow, owner, currency)
    ledger = ledger_of(uow)
    await ledger.ensure_system([system_account(role, currency) for role in SystemRole])
    await ledger.open_account(account.id, currency, credit_limit)
    return account


async def _locked_hold(uow: UnitOfWork, transfer_id: UUID, customers: bool
                       ) -> tuple[Hold, dict[UUID, Account], dict[UUID, LedgerAccount]]:
    ledger = ledger_of(uow)
    seen = await ledger.hold(transfer_id)
    if seen is None:
        if await uow.transfers.get(transfer_id) is None:
            raise TransferNotFound(f"transfer {transfer_id} does not exist")
        raise NotAHold(f"transfer {transfer_id} is not a two-phase transfer; reverse it instead",
                       transfer_id=str(transfer_id))
    if seen.destination_id is None:
        # A payout or refund hold (phase 3): the money may already have left through the
        # provider, so only the payments saga that placed it may post or void it.
        raise NotAHold(f"transfer {transfer_id} reserves funds for a payment leaving the lab; "
                       f"only its payout or refund settles it", transfer_id=str(transfer_id))
    sides = [seen.source_id, seen.destination_id]
    accounts = await uow.accounts.lock(sides) if customers else {}
    locked = await ledger.lock(sides)
    hold = await ledger.hold(transfer_id, lock=True)
    assert hold is not None  # holds are never deleted
    return hold, accounts, locked


async def _write(uow: UnitOfWork, locked: dict[UUID, LedgerAccount], entry: JournalEntry,
                 transfer_id: UUID, status: TransferStatus) -> None:
    # A release or a post never leaves `available` lower than before the hold; simulating
    # anyway keeps one rule for every write (policy, currency, bigint range).
    simulate(locked, [entry])
    await ledger_of(uow).append(entry)
    await ledger_of(uow).set_status(transfer_id, status)


async def post(uow: UnitOfWork, transfer_id: UUID, amount: int | None) -> None:
    """Post a hold, fully (amount None) or partially; the unposted rest returns to the payer."""
    hold, accounts, locked = await _locked_hold(uow, transfer_id, customers=True)
    money = hold.amount if amount is None else Money(amount, hold.amount.currency)
    hold.check_post(money)
    for account in accounts.values():
        account.require_movable()  # a frozen or closed account neither sends nor receives
    await _write(uow, locked, entries.post(hold, money), transfer_id, TransferStatus.COMPLETED)


async def void(uow: UnitOfWork, transfer_id: UUID) -> None:
    hold, _, locked = await _locked_hold(uow, transfer_id, customers=False)
    hold.check_void()
    await _write(uow, locked, entries.release(hold, EntryKind.VOID), transfer_id,
                 TransferStatus.VOIDED)


async def expire(uow: UnitOfWork, transfer_id: UUID) -> bool:
    """Release a hold past its expiry; False (and nothing written) if it is not due. Used by the
    sweeper and by reads of the transfer; the EXPIRE entry is effective at the expiry itself."""
    seen = await ledger_of(uow).hold(transfer_id)
    if seen is None or not seen.due():
        return False
    hold, _, locked = await _locked_hold(uow, transfer_id, customers=False)
    if not hold.due():
        return False  # posted, voided or expired by someone else while we waited for the locks
    entry = entries.release(hold, EntryKind.EXPIRE, hold.expires_at)
    await _write(uow, locked, entry, transfer_id, TransferStatus.EXPIRED)
    return True
