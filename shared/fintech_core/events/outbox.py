"""The outbox's write side: the "outbox" unit-of-work extension, and the phase-2 ledger that
writes an event with every change it makes.

Why a decorator around the ledger and not only a pipeline step: holds are posted, voided,
expired (by the sweeper, or on touch) and transfers reversed outside the transfer pipeline. All of
them end in `set_status` or `add_transfer` right after `append`, inside the caller's transaction,
so hooking those two calls covers every path with one rule, and no path can forget its event.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fintech_core.db.write_behind import Session
from fintech_core.domain.ids import uuid7
from fintech_core.events.emit import SETTLED, NewEvent, recorded, settled
from fintech_core.ledger.adapters.sql import SqlLedger
from fintech_core.ledger.model import JournalEntry
from fintech_core.transfers.domain import Transfer, TransferStatus


class SqlOutbox:
    def __init__(self, conn: Session) -> None:
        self.conn = conn

    async def add(self, event: NewEvent) -> UUID:
        # Held (db/write_behind.py): the INSERT travels with the transaction's other writes, so
        # announcing costs no extra round trip on the request path.
        # Rows: a group-commit batch writes all its events in one INSERT, in the batch's order.
        event_id = uuid7()
        await self.conn.hold_rows(
            "outbox", "INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type,"
            " payload, headers) SELECT e, t, a, y, p::jsonb, h::jsonb FROM unnest(%s::uuid[],"
            " %s::text[], %s::uuid[], %s::text[], %s::text[], %s::text[]) WITH ORDINALITY"
            " AS x(e, t, a, y, p, h, o) ORDER BY o",
            ([event_id], [event.aggregate_type], [event.aggregate_id], [event.event_type],
             [event.payload.model_dump_json()],
             [f'{{"correlation_id": "{event.correlation_id}"}}']))
        return event_id


class OutboxLedger:
    """Any ledger repository, plus: every status change and every reversal writes its event to
    `outbox` in the same transaction. It remembers the entries appended through it in this
    unit of work, because a settle or a reversal announces the entry appended just before."""

    def __init__(self, inner: Any, outbox: Any) -> None:
        self._inner, self.outbox = inner, outbox
        self._appended: dict[UUID, JournalEntry] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def append(self, entry: JournalEntry) -> None:
        await self._inner.append(entry)
        self._appended[entry.transfer_id] = entry

    async def set_status(self, transfer_id: UUID, status: TransferStatus) -> None:
        await self._inner.set_status(transfer_id, status)
        if status in SETTLED:
            await self.outbox.add(settled(transfer_id, status, self._appended[transfer_id]))

    async def add_transfer(self, transfer: Transfer, reverses_id: UUID | None) -> None:
        await self._inner.add_transfer(transfer, reverses_id)
        await self.outbox.add(recorded(transfer, self._appended[transfer.id], reverses_id))


def sql_outbox_ledger(conn: Session) -> OutboxLedger:
    return OutboxLedger(SqlLedger(conn), SqlOutbox(conn))
