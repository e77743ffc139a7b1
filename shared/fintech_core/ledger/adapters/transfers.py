"""The ledger's transfer rows in PostgreSQL: holds, status changes, reversal links.

Status changes are plain UPDATEs; the trigger on `transfers` refuses an illegal transition and
writes the history row, so this adapter cannot get either wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from fintech_core.db.write_behind import Session
from fintech_core.domain.money import Money
from fintech_core.ledger.holds import Hold
from fintech_core.transfers.domain import Transfer, TransferStatus
from fintech_core.transfers.sql import TRANSFER_COLS, transfer_from_row

_HOLD = ("t.id, t.source_id, t.destination_id, t.amount, t.currency, t.status, h.expires_at,"
         " coalesce(h.expires_at <= clock_timestamp(), false)")
_OVERDUE = ("FROM transfers t JOIN holds h ON h.transfer_id = t.id WHERE t.status = 'PENDING'"
            " AND t.source_id = ANY(%(paying)s) AND h.expires_at <= clock_timestamp()")


def _hold(r: tuple[Any, ...]) -> Hold:
    return Hold(r[0], r[1], r[2], Money(r[3], r[4]), TransferStatus(r[5]), r[6], r[7])


class SqlLedgerTransfers:
    def __init__(self, conn: Session) -> None:
        self.conn = conn

    async def overdue_holds(self, paying: Sequence[UUID]) -> list[Hold]:
        cur = await self.conn.execute(
            f"SELECT {_HOLD} {_OVERDUE} ORDER BY t.id FOR UPDATE OF t", {"paying": list(paying)})
        return [_hold(r) for r in await cur.fetchall()]

    async def add_transfer(self, t: Transfer, reverses_id: UUID | None) -> None:
        await self.conn.hold(
            "transfers", f"INSERT INTO transfers ({TRANSFER_COLS}, reverses_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (t.id, t.kind.value, t.source_id, t.destination_id, t.amount, t.currency,
             t.status.value, t.reference, t.failure_code, t.created_at, reverses_id))

    async def add_hold(self, transfer_id: UUID, timeout_seconds: int | None) -> None:
        await self.conn.hold(
            "holds", "INSERT INTO holds (transfer_id, expires_at) SELECT %s, clock_timestamp()"
            " + make_interval(secs => %s::int)", (transfer_id, timeout_seconds))

    async def hold(self, transfer_id: UUID, lock: bool = False) -> Hold | None:
        cur = await self.conn.execute(
            f"SELECT {_HOLD} FROM transfers t JOIN holds h ON h.transfer_id = t.id"
            f" WHERE t.id = %s{' FOR UPDATE OF t' if lock else ''}", (transfer_id,))
        row = await cur.fetchone()
        return _hold(row) if row else None

    async def set_status(self, transfer_id: UUID, status: TransferStatus) -> None:
        await self.conn.execute("UPDATE transfers SET status = %s WHERE id = %s",
                                (status.value, transfer_id))

    async def lock_transfer(self, transfer_id: UUID) -> Transfer | None:
        cur = await self.conn.execute(
            f"SELECT {TRANSFER_COLS} FROM transfers WHERE id = %s FOR UPDATE", (transfer_id,))
        row = await cur.fetchone()
        return transfer_from_row(row) if row else None

    async def reversal_of(self, transfer_id: UUID) -> UUID | None:
        cur = await self.conn.execute("SELECT id FROM transfers WHERE reverses_id = %s",
                                      (transfer_id,))
        row = await cur.fetchone()
        return row[0] if row else None

    async def due_holds(self, limit: int) -> list[UUID]:
        cur = await self.conn.execute(
            "SELECT t.id FROM transfers t JOIN holds h ON h.transfer_id = t.id"
            " WHERE t.status = 'PENDING' AND h.expires_at <= clock_timestamp()"
            " ORDER BY h.expires_at LIMIT %s", (limit,))
        return [r[0] for r in await cur.fetchall()]
