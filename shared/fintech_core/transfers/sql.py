"""Transfers in PostgreSQL (phase 0 schema): a transfer row is written once, by the pipeline."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fintech_core.db.write_behind import Session
from fintech_core.transfers.domain import Transfer, TransferKind, TransferStatus

TRANSFER_COLS = ("id, kind, source_id, destination_id, amount, currency, status, reference,"
                  " failure_code, created_at")


_INSERT = (f"INSERT INTO transfers ({TRANSFER_COLS}) SELECT * FROM unnest(%s::uuid[], %s::text[],"
           " %s::uuid[], %s::uuid[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[],"
           " %s::timestamptz[])")


def transfer_from_row(row: tuple[Any, ...]) -> Transfer:
    return Transfer(row[0], TransferKind(row[1]), row[2], row[3], row[4], row[5],
                    TransferStatus(row[6]), row[7], row[8], row[9])


class SqlTransfers:
    def __init__(self, conn: Session) -> None:
        self.conn = conn

    async def add(self, t: Transfer) -> None:
        # Rows (db/write_behind.py): a group-commit batch writes all its transfers in one INSERT.
        await self.conn.hold_rows("transfers", _INSERT, (
            [t.id], [t.kind.value], [t.source_id], [t.destination_id], [t.amount], [t.currency],
            [t.status.value], [t.reference], [t.failure_code], [t.created_at]))

    async def get(self, transfer_id: UUID) -> Transfer | None:
        cur = await self.conn.execute(
            f"SELECT {TRANSFER_COLS} FROM transfers WHERE id = %s", (transfer_id,))
        row = await cur.fetchone()
        return transfer_from_row(row) if row else None
