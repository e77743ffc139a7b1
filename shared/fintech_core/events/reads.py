"""The read models' queries: the "event_reads" unit-of-work extension. SQLModel `select()`
statements, run on the unit of work's connection (db/statements.py). Reads never write.

Both read models are filled by consumers, after the transfer committed: they lag the ledger by
the relay and consumer delay (milliseconds when the workers run), so a transfer just made may
not be in them yet. The routes say so in their descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlmodel import col, select, tuple_

from fintech_core.db.statements import fetch_all
from fintech_core.db.write_behind import Session
from fintech_core.events.read_models import AccountActivity, ActivityLine, AuditEvent, AuditTrail


@dataclass(frozen=True)
class ActivityPosition:
    """Where a page of activity ends: the order key of its last line. Unique per account
    (entry_id and bucket complete the primary key), so paging neither repeats nor skips."""

    recorded_at: datetime
    entry_id: UUID
    bucket: str

    @classmethod
    def of(cls, line: ActivityLine) -> ActivityPosition:
        return cls(line.recorded_at, line.entry_id, line.bucket)


class SqlEventReads:
    def __init__(self, conn: Session) -> None:
        self.conn = conn

    async def activity(self, account_id: UUID, before: ActivityPosition | None,
                       limit: int) -> list[ActivityLine]:
        """An account's lines, newest first, strictly after `before` in that order. Served by
        account_activity_account_idx (account_id, recorded_at)."""
        a = AccountActivity
        key = (col(a.recorded_at), col(a.entry_id), col(a.bucket))
        query = select(a).where(col(a.account_id) == account_id)
        if before is not None:
            query = query.where(tuple_(*key) < tuple_(before.recorded_at, before.entry_id,
                                                      before.bucket))
        query = query.order_by(*(k.desc() for k in key)).limit(limit)
        return await fetch_all(self.conn, query, ActivityLine)

    async def story(self, transfer_id: UUID) -> list[AuditEvent]:
        """Every event of one transfer (its correlation id), in the order they were committed.
        Bounded by design: a transfer has at most two events (recorded or held, then settled);
        a reversal is a transfer of its own. Served by audit_trail_correlation_idx."""
        t = AuditTrail
        query = (select(t).where(col(t.correlation_id) == str(transfer_id))
                 .order_by(col(t.occurred_at), col(t.event_id)))
        return await fetch_all(self.conn, query, AuditEvent)
