"""The ledger's read side in PostgreSQL: balances (now and as of a past instant), statements,
transfer details and verify. Reads never write.

Overdue holds: a hold past its expiry that the sweeper has not released yet is subtracted from the
pending buckets here ("release on read"), so what a reader sees never depends on the sweeper's
timing. Once released, its EXPIRE entry is effective at the expiry, so as-of answers agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fintech_core.db.write_behind import Session
from fintech_core.ledger.adapters.verify import verify
from fintech_core.ledger.views import (
    BalanceView,
    EntryView,
    PostingView,
    StatementLine,
    StatusChange,
    TransferDetails,
    VerifyReport,
)
from fintech_core.transfers.sql import TRANSFER_COLS, transfer_from_row

_OVERDUE = ("coalesce((SELECT sum(t.amount) FROM transfers t JOIN holds h ON h.transfer_id = t.id"
            " WHERE t.status = 'PENDING' AND t.{side} = l.id AND h.expires_at <= {at}), 0)")
_NOW = (f"SELECT l.currency, l.credit_limit, l.posted, l.pending_out, l.pending_in,"
        f" {_OVERDUE.format(side='source_id', at='clock_timestamp()')},"
        f" {_OVERDUE.format(side='destination_id', at='clock_timestamp()')}"
        f" FROM ledger_accounts l WHERE l.id = %(id)s")
_PENDING_AT = ("coalesce((SELECT sum(p.signed_amount) FROM postings p JOIN journal_entries j"
               " ON j.id = p.journal_id WHERE p.account_id = l.id AND p.bucket = '{bucket}'"
               " AND j.effective_at <= %(at)s), 0)")
_AS_OF = (f"SELECT l.currency, l.credit_limit,"
          f" coalesce((SELECT p.balance_after FROM postings p WHERE p.account_id = l.id"
          f"  AND p.bucket = 'POSTED' AND p.created_at <= %(at)s"
          f"  ORDER BY p.created_at DESC, p.account_seq DESC LIMIT 1), 0),"
          f" -{_PENDING_AT.format(bucket='PENDING_OUT')},"
          f" {_PENDING_AT.format(bucket='PENDING_IN')},"
          f" {_OVERDUE.format(side='source_id', at='%(at)s')},"
          f" {_OVERDUE.format(side='destination_id', at='%(at)s')}"
          f" FROM ledger_accounts l WHERE l.id = %(id)s")


class SqlLedgerReads:
    def __init__(self, conn: Session) -> None:
        self.conn = conn

    async def balance(self, account_id: UUID, as_of: datetime | None) -> BalanceView | None:
        cur = await self.conn.execute(_NOW if as_of is None else _AS_OF,
                                      {"id": account_id, "at": as_of})
        r = await cur.fetchone()
        if r is None:
            return None
        currency, limit, posted, pending_out, pending_in, overdue_out, overdue_in = r
        return BalanceView(account_id, currency, as_of, posted, pending_out - overdue_out,
                           pending_in - overdue_in, limit)

    async def statement(self, account_id: UUID, before_seq: int | None,
                        limit: int) -> list[StatementLine]:
        cur = await self.conn.execute(
            "SELECT p.account_seq, p.journal_id, j.transfer_id, j.kind, p.direction, p.amount,"
            "       p.balance_after, p.created_at, t.reference"
            "  FROM postings p JOIN journal_entries j ON j.id = p.journal_id"
            "  JOIN transfers t ON t.id = j.transfer_id"
            " WHERE p.account_id = %(id)s AND p.bucket = 'POSTED'"
            "   AND (%(before)s::bigint IS NULL OR p.account_seq < %(before)s)"
            " ORDER BY p.account_seq DESC LIMIT %(limit)s",
            {"id": account_id, "before": before_seq, "limit": limit})
        return [StatementLine(*r) for r in await cur.fetchall()]

    async def _rows(self, query: str, transfer_id: UUID) -> list[tuple[Any, ...]]:
        cur = await self.conn.execute(query, (transfer_id,))
        return await cur.fetchall()

    async def details(self, transfer_id: UUID) -> TransferDetails | None:
        row = await self._rows(
            f"SELECT {TRANSFER_COLS}, reverses_id, (SELECT h.expires_at FROM holds h WHERE"
            f" h.transfer_id = transfers.id), EXISTS (SELECT 1 FROM holds h WHERE h.transfer_id"
            f" = transfers.id), (SELECT r.id FROM transfers r WHERE r.reverses_id = transfers.id)"
            f" FROM transfers WHERE id = %s", transfer_id)
        if not row:
            return None
        transfer, (reverses_id, expires_at, two_phase, reversed_by) = \
            transfer_from_row(row[0][:10]), row[0][10:]
        postings = await self._rows(
            "SELECT j.id, j.kind, j.created_at, j.effective_at, p.account_id, l.name, p.bucket,"
            "       p.direction, p.amount, p.currency, p.balance_after"
            "  FROM journal_entries j JOIN postings p ON p.journal_id = j.id"
            "  JOIN ledger_accounts l ON l.id = p.account_id"
            " WHERE j.transfer_id = %s ORDER BY j.created_at, p.id", transfer_id)
        grouped: dict[UUID, tuple[Any, list[PostingView]]] = {}
        for r in postings:
            grouped.setdefault(r[0], (r[:4], []))[1].append(PostingView(*r[4:]))
        entries = tuple(EntryView(head[0], head[1], head[2], head[3], tuple(ps))
                        for head, ps in grouped.values())
        moved = sum(p.amount for e in entries for p in e.postings
                    if p.bucket == "POSTED" and p.direction == "CREDIT")
        history = await self._rows(
            "SELECT from_status, to_status, at FROM transfer_events WHERE transfer_id = %s"
            " ORDER BY id", transfer_id)
        return TransferDetails(transfer, two_phase, expires_at, moved or None, reverses_id,
                               reversed_by, entries, tuple(StatusChange(*h) for h in history))

    async def verify(self) -> VerifyReport:
        return await verify(self.conn)
