"""The ledger side of payments, identical for every provider: what a pay-in, a payout and a
refund post, against one clearing account per provider and currency.

    pay-in settled:  @clearing:<provider>:<CUR>  -X  ->  customer  +X   (a DEPOSIT transfer)
    payout/refund:   hold customer -> clearing (PENDING_OUT / PENDING_IN, a PENDING WITHDRAWAL),
                     then posted (the money left through the provider) or voided (it did not)

The clearing account is what the provider owes us (negative: it collected money that we already
credited) net of what it paid out for us; reconciliation compares its movements with the
provider's settlement report. Nothing here knows a provider's API: the same functions run for
ledgerpay and stripeish (the adapter pattern's lesson).

Lock order is the ledger's (ledger/service.py): accounts rows, then ledger rows, then transfer
rows, so none of these can deadlock with transfers or holds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid5

from fintech_core.domain.errors import AccountNotFound, CurrencyMismatch
from fintech_core.domain.ids import uuid7
from fintech_core.domain.money import Money
from fintech_core.ledger import planning
from fintech_core.ledger.model import Bucket, EntryKind, JournalEntry, Posting
from fintech_core.ledger.policy import simulate
from fintech_core.ledger.service import ledger_of
from fintech_core.ledger.system import NAMESPACE, SystemAccount
from fintech_core.service.ports import UnitOfWork
from fintech_core.transfers.domain import Transfer, TransferKind, TransferStatus

P, OUT, IN = Bucket.POSTED, Bucket.PENDING_OUT, Bucket.PENDING_IN


def clearing_account(provider: str, currency: str) -> SystemAccount:
    name = f"@clearing:{provider}:{currency}"
    return SystemAccount(uuid5(NAMESPACE, name), name, currency)


async def _customer(uow: UnitOfWork, account_id: UUID, currency: str, movable: bool) -> None:
    accounts = await uow.accounts.lock([account_id])
    account = accounts.get(account_id)
    if account is None:
        raise AccountNotFound(f"account {account_id} does not exist", account_id=str(account_id))
    if account.currency != currency:
        raise CurrencyMismatch(f"account {account_id} holds {account.currency}, not {currency}",
                               account_id=str(account_id))
    if movable:
        account.require_movable()


def _transfer(transfer_id: UUID, kind: TransferKind, source: UUID | None, dest: UUID | None,
              money: Money, status: TransferStatus, reference: str) -> Transfer:
    return Transfer(transfer_id, kind, source, dest, money.minor, money.currency, status,
                    reference, None, datetime.now(UTC))


async def credit_payin(uow: UnitOfWork, provider: str, account_id: UUID, money: Money,
                       reference: str) -> UUID:
    """Credit a settled pay-in. The customer's account may have been frozen since: the money is
    already collected, so it is credited anyway (freezing stops spending, not receiving funds
    that are ours to hold)."""
    ledger, clearing = ledger_of(uow), clearing_account(provider, money.currency)
    await ledger.ensure_system([clearing])
    await _customer(uow, account_id, money.currency, movable=False)
    transfer_id = uuid7()
    entry = JournalEntry(uuid7(), transfer_id, EntryKind.DEPOSIT,
                         (Posting(clearing.id, P, -money), Posting(account_id, P, money)))
    await planning.apply(ledger, await planning.plan(ledger, entry))
    await ledger.add_transfer(_transfer(transfer_id, TransferKind.DEPOSIT, None, account_id,
                                        money, TransferStatus.COMPLETED, reference), None)
    return transfer_id


async def place_hold(uow: UnitOfWork, provider: str, account_id: UUID, money: Money,
                     reference: str) -> UUID:
    """Reserve the customer's funds for money about to leave through `provider`; raises
    InsufficientFunds (and writes nothing) when they are not available."""
    ledger, clearing = ledger_of(uow), clearing_account(provider, money.currency)
    await ledger.ensure_system([clearing])
    await _customer(uow, account_id, money.currency, movable=True)
    hold_id = uuid7()
    entry = JournalEntry(uuid7(), hold_id, EntryKind.HOLD,
                         (Posting(account_id, OUT, -money), Posting(clearing.id, IN, money)))
    await planning.apply(ledger, await planning.plan(ledger, entry))
    await ledger.add_transfer(_transfer(hold_id, TransferKind.WITHDRAWAL, account_id, None,
                                        money, TransferStatus.PENDING, reference), None)
    await ledger.add_hold(hold_id, None)  # no expiry: only the saga ends it, posted or voided
    return hold_id


async def settle_hold(uow: UnitOfWork, provider: str, hold_id: UUID, post: bool) -> bool:
    """Post (the money left) or void (it did not) a payments hold. False, writing nothing, when
    it is already settled: a resumed saga or a duplicate event lands here harmlessly."""
    ledger = ledger_of(uow)
    seen = await ledger.hold(hold_id)
    assert seen is not None, f"payments hold {hold_id} is missing"
    clearing = clearing_account(provider, seen.amount.currency)
    await uow.accounts.lock([seen.source_id])
    locked = await ledger.lock([seen.source_id, clearing.id])
    hold = await ledger.hold(hold_id, lock=True)
    assert hold is not None
    if hold.status is not TransferStatus.PENDING:
        return False
    m = hold.amount
    release = (Posting(hold.source_id, OUT, m), Posting(clearing.id, IN, -m))
    if post:
        entry = JournalEntry(uuid7(), hold_id, EntryKind.POST,
                             (*release, Posting(hold.source_id, P, -m), Posting(clearing.id, P, m)))
    else:
        entry = JournalEntry(uuid7(), hold_id, EntryKind.VOID, release)
    simulate(locked, [entry])
    await ledger.append(entry)
    await ledger.set_status(hold_id, TransferStatus.COMPLETED if post else TransferStatus.VOIDED)
    return True
