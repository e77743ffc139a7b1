"""Event contracts and emission rules, without I/O: versions are explicit, unknown ones are
refused, keys name the account whose money moved, and the ledger wrapper announces every
status change and reversal through the outbox port (a fake here)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from pydantic import ValidationError

from fintech_core.domain.money import Money
from fintech_core.events.contracts import CONTRACTS, Envelope, UnknownEvent, parse
from fintech_core.events.emit import recorded, settled
from fintech_core.events.outbox import OutboxLedger
from fintech_core.ledger.model import Bucket, EntryKind, JournalEntry, Posting
from fintech_core.testing.memory_outbox import MemoryOutbox
from fintech_core.transfers.domain import Transfer, TransferKind, TransferStatus

A, B = uuid4(), uuid4()


def entry(transfer_id, kind=EntryKind.TRANSFER, bucket=Bucket.POSTED):  # type: ignore[no-untyped-def]
    other = Bucket.PENDING_IN if bucket is Bucket.PENDING_OUT else bucket
    return JournalEntry(uuid4(), transfer_id, kind, (
        Posting(A, bucket, Money(-5, "EUR") if bucket is Bucket.POSTED else Money(5, "EUR")),
        Posting(B, other, Money(5, "EUR") if bucket is Bucket.POSTED else Money(-5, "EUR"))))


def transfer(status=TransferStatus.COMPLETED, source=A, kind=TransferKind.TRANSFER):  # type: ignore[no-untyped-def]
    return Transfer(id=uuid4(), kind=kind, source_id=source, destination_id=B, amount=5,
                    currency="EUR", status=status, reference=None, failure_code=None,
                    created_at=datetime.now(UTC))


def test_every_contract_name_carries_its_version() -> None:
    assert all(name.rsplit(".", 1)[1] == "v1" for name in CONTRACTS)


def test_an_unknown_version_is_refused_not_guessed() -> None:
    env = Envelope(event_id=uuid4(), event_type="transfer.completed.v2", aggregate_type="account",
                   aggregate_id=A, occurred_at=datetime.now(UTC), payload={})
    with pytest.raises(UnknownEvent):
        parse(env)
    with pytest.raises(ValidationError):
        parse(env.model_copy(update={"event_type": "transfer.completed.v1"}))


def test_keys_name_the_payer_or_the_payee_of_a_deposit() -> None:
    t = transfer()
    assert recorded(t, entry(t.id)).aggregate_id == A
    d = transfer(source=None, kind=TransferKind.DEPOSIT)
    assert recorded(d, entry(d.id, EntryKind.DEPOSIT)).aggregate_id == B
    h = transfer(TransferStatus.PENDING)
    assert recorded(h, entry(h.id, EntryKind.HOLD, Bucket.PENDING_OUT)).event_type == \
        "transfer.held.v1"
    e = entry(h.id, EntryKind.VOID, Bucket.PENDING_OUT)
    assert settled(h.id, TransferStatus.VOIDED, e).aggregate_id == A


class _Ledger:
    async def append(self, entry: JournalEntry) -> None: ...
    async def set_status(self, transfer_id, status) -> None: ...  # type: ignore[no-untyped-def]
    async def add_transfer(self, transfer, reverses_id) -> None: ...  # type: ignore[no-untyped-def]


@pytest.mark.anyio
async def test_the_wrapped_ledger_announces_status_changes_and_reversals() -> None:
    outbox = MemoryOutbox()
    ledger = OutboxLedger(_Ledger(), outbox)
    hold = uuid4()
    await ledger.append(entry(hold, EntryKind.POST, Bucket.PENDING_OUT))
    await ledger.set_status(hold, TransferStatus.COMPLETED)
    reversal = transfer(kind=TransferKind.REVERSAL)
    await ledger.append(entry(reversal.id, EntryKind.REVERSAL))
    await ledger.add_transfer(reversal, reverses_id=hold)
    assert [e.event_type for e in outbox.events] == ["transfer.posted.v1",
                                                     "transfer.completed.v1"]
    assert outbox.events[1].payload.reverses_id == hold  # type: ignore[attr-defined]
