"""Builders for every journal entry the ledger writes. Pure: each returns a balanced entry (the
JournalEntry constructor refuses anything else), so the effects only ever append these."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from fintech_core.domain.ids import uuid7
from fintech_core.domain.money import Money
from fintech_core.ledger.holds import Hold
from fintech_core.ledger.model import Bucket, EntryKind, JournalEntry, Posting
from fintech_core.ledger.system import SystemRole, system_account
from fintech_core.transfers.domain import TransferCommand

P = Bucket.POSTED


def sides(command: TransferCommand) -> tuple[UUID, UUID]:
    """(debited, credited) ledger accounts: deposits come from cash-in, withdrawals go to
    cash-out, so one code path moves money for all three kinds."""
    debit = command.source_id or system_account(SystemRole.CASH_IN, command.currency).id
    credit = command.destination_id or system_account(SystemRole.CASH_OUT, command.currency).id
    return debit, credit


def movement(transfer_id: UUID, kind: EntryKind, debit: UUID, credit: UUID,
             money: Money) -> JournalEntry:
    return JournalEntry(uuid7(), transfer_id, kind,
                        (Posting(debit, P, -money), Posting(credit, P, money)))


def for_command(transfer_id: UUID, command: TransferCommand, two_phase: bool) -> JournalEntry:
    debit, credit = sides(command)
    money = Money(command.amount, command.currency)
    if two_phase:
        return JournalEntry(uuid7(), transfer_id, EntryKind.HOLD, (
            Posting(debit, Bucket.PENDING_OUT, -money), Posting(credit, Bucket.PENDING_IN, money)))
    return movement(transfer_id, EntryKind(command.kind.value), debit, credit, money)


def _release(hold: Hold) -> tuple[Posting, Posting]:
    return (Posting(hold.source_id, Bucket.PENDING_OUT, hold.amount),
            Posting(hold.destination_id, Bucket.PENDING_IN, -hold.amount))


def release(hold: Hold, kind: EntryKind, effective_at: datetime | None = None) -> JournalEntry:
    """VOID, or EXPIRE backdated to the expiry: the reservation ends, no posted money moves."""
    return JournalEntry(uuid7(), hold.transfer_id, kind, _release(hold), effective_at)


def post(hold: Hold, amount: Money) -> JournalEntry:
    """Release the whole reservation and move `amount` (<= held) in one entry: a partial post
    gives the rest back to the payer at the same instant, never a moment later."""
    moved = (Posting(hold.source_id, P, -amount), Posting(hold.destination_id, P, amount))
    return JournalEntry(uuid7(), hold.transfer_id, EntryKind.POST, (*_release(hold), *moved))


def reversal(reversal_id: UUID, posted: Sequence[Posting]) -> JournalEntry:
    """The exact negation of a transfer's posted postings, as a new entry of a new transfer."""
    return JournalEntry(uuid7(), reversal_id, EntryKind.REVERSAL,
                        tuple(Posting(p.account_id, P, -p.amount) for p in posted if p.bucket is P))
