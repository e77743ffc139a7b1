"""Which event a ledger change announces, and under which key. Pure: no I/O.

The Kafka key (the aggregate) is the account whose money the change is about: the payer, or the
payee of a deposit. Every write of an account's money holds that account's row lock, so its
events are inserted, published and consumed in commit order (one key, one partition).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from fintech_core.events.contracts import (
    Contract,
    EntryV1,
    PostingV1,
    TransferCompletedV1,
    TransferHeldV1,
    TransferSettledV1,
)
from fintech_core.ledger.model import Bucket, JournalEntry
from fintech_core.transfers.domain import Transfer, TransferKind, TransferStatus

ACCOUNT = "account"


@dataclass(frozen=True)
class NewEvent:
    event_type: str
    aggregate_type: str
    aggregate_id: UUID
    payload: Contract
    correlation_id: str


def entry_v1(entry: JournalEntry) -> EntryV1:
    return EntryV1(entry_id=entry.id, kind=entry.kind.value, postings=[
        PostingV1(account_id=p.account_id, bucket=p.bucket.value, amount=p.amount.minor,
                  currency=p.amount.currency) for p in entry.postings])


def _payer(t: Transfer) -> UUID:
    key = t.source_id or t.destination_id
    assert key is not None, "a transfer has at least one customer side"
    return key


def recorded(t: Transfer, entry: JournalEntry, reverses_id: UUID | None = None) -> NewEvent:
    """A transfer created by the pipeline or a reversal: completed at once, or held."""
    if t.status is TransferStatus.PENDING:
        # destination None: a payments hold, whose money is about to leave the lab (phase 3)
        assert t.source_id is not None
        payload: Contract = TransferHeldV1(
            transfer_id=t.id, source_account_id=t.source_id, destination_account_id=t.destination_id,
            amount=t.amount, currency=t.currency, reference=t.reference, entry=entry_v1(entry))
        return NewEvent("transfer.held.v1", ACCOUNT, _payer(t), payload, str(t.id))
    assert t.status is TransferStatus.COMPLETED, f"no event for a {t.status} transfer"
    payload = TransferCompletedV1(
        transfer_id=t.id, kind=TransferKind(t.kind).value, source_account_id=t.source_id,
        destination_account_id=t.destination_id, amount=t.amount, currency=t.currency,
        reference=t.reference, reverses_id=reverses_id, entry=entry_v1(entry))
    return NewEvent("transfer.completed.v1", ACCOUNT, _payer(t), payload, str(t.id))


SETTLED = {TransferStatus.COMPLETED: "transfer.posted.v1",
           TransferStatus.VOIDED: "transfer.voided.v1",
           TransferStatus.EXPIRED: "transfer.expired.v1"}


def settled(transfer_id: UUID, status: TransferStatus, entry: JournalEntry) -> NewEvent:
    """A hold posted, voided or expired. Its entry releases the payer's PENDING_OUT bucket,
    which names the payer without another read."""
    payer = next(p.account_id for p in entry.postings if p.bucket is Bucket.PENDING_OUT)
    payload = TransferSettledV1(transfer_id=transfer_id, status=status.value,  # type: ignore[arg-type]
                                entry=entry_v1(entry))
    return NewEvent(SETTLED[status], ACCOUNT, payer, payload, str(transfer_id))
