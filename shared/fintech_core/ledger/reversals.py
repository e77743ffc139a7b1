"""Reversal: a completed transfer is corrected by a new, linked transfer, never by an edit.

The reversal posts the exact negation of the original's net posted movement, so it works the
same for transfers, deposits, withdrawals and posted holds (for a partial post, what moved).
"At most once" holds three times over: checked under the accounts' row locks, again under the
original transfer's row lock, and by the UNIQUE constraint on transfers.reverses_id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from fintech_core.domain.errors import TransferNotFound
from fintech_core.domain.ids import uuid7
from fintech_core.ledger import entries, planning
from fintech_core.ledger.errors import AlreadyReversed, TransferNotReversible
from fintech_core.ledger.ports import LedgerRepository
from fintech_core.ledger.service import ledger_of
from fintech_core.service.ports import UnitOfWork
from fintech_core.transfers.domain import Transfer, TransferKind, TransferStatus


async def _refuse_if_reversed(ledger: LedgerRepository, transfer_id: UUID) -> None:
    already = await ledger.reversal_of(transfer_id)
    if already is not None:
        raise AlreadyReversed(f"transfer {transfer_id} was already reversed by {already}",
                              transfer_id=str(transfer_id), reversed_by=str(already))


async def reverse(uow: UnitOfWork, transfer_id: UUID, reference: str | None) -> Transfer:
    ledger = ledger_of(uow)
    original = await uow.transfers.get(transfer_id)
    if original is None:
        raise TransferNotFound(f"transfer {transfer_id} does not exist")
    # COMPLETED is final, so this unlocked check cannot be invalidated by a concurrent request.
    if original.status is not TransferStatus.COMPLETED or original.kind is TransferKind.REVERSAL:
        raise TransferNotReversible(
            f"transfer {transfer_id} is a {original.status.value} {original.kind.value}; only a "
            f"COMPLETED transfer that is not itself a reversal can be reversed",
            transfer_id=str(transfer_id), transfer_status=original.status.value)
    posted = await ledger.posted_postings(transfer_id)
    customers = [i for i in (original.source_id, original.destination_id) if i is not None]
    # Two reversals of one transfer lock the same account rows, so the second waits here until
    # the first commits, and then sees it: "already reversed" is answered before any balance
    # check could answer "insufficient funds" instead.
    accounts = await uow.accounts.lock(customers)
    await _refuse_if_reversed(ledger, transfer_id)
    reversal_id = uuid7()
    planned = await planning.plan(ledger, entries.reversal(reversal_id, posted))
    await ledger.lock_transfer(transfer_id)
    await _refuse_if_reversed(ledger, transfer_id)
    for account in accounts.values():
        account.require_movable()
    reversal = Transfer(
        id=reversal_id, kind=TransferKind.REVERSAL, source_id=original.destination_id,
        destination_id=original.source_id, amount=sum(p.amount.minor for p in posted
                                                      if p.amount.minor > 0),
        currency=original.currency, status=TransferStatus.COMPLETED, reference=reference,
        failure_code=None, created_at=datetime.now(UTC))
    await planning.apply(ledger, planned)
    await ledger.add_transfer(reversal, reverses_id=transfer_id)
    return reversal
