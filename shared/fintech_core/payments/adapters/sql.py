"""The payments slice's tables in PostgreSQL (schema: phases/phase03_payments/migrations).

Rows come back as dicts keyed by column. The forward-only rule and the history are the
database's (triggers), so `move` cannot record an illegal transition or skip a history row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fintech_core.db.write_behind import Session

Row = dict[str, Any]
TABLES = {"payment": "payments", "payout": "payouts", "refund": "refunds"}


async def _rows(conn: Session, query: str, params: Any = None) -> list[Row]:
    cur = await conn.execute(query, params)
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in await cur.fetchall()]


class SqlPayments:
    """The "payments" unit-of-work extension."""

    def __init__(self, conn: Session) -> None:
        self.conn = conn

    async def insert(self, kind: str, fields: Row) -> None:
        cols = ", ".join(fields)
        marks = ", ".join(["%s"] * len(fields))
        await self.conn.execute(f"INSERT INTO {TABLES[kind]} ({cols}) VALUES ({marks})",
                                tuple(fields.values()))

    async def get(self, kind: str, resource_id: UUID, lock: bool = False) -> Row | None:
        found = await _rows(self.conn, f"SELECT * FROM {TABLES[kind]} WHERE id = %s"
                            f"{' FOR UPDATE' if lock else ''}", (resource_id,))
        return found[0] if found else None

    async def update(self, kind: str, resource_id: UUID, fields: Row) -> None:
        sets = ", ".join(f"{k} = %s" for k in fields)
        await self.conn.execute(f"UPDATE {TABLES[kind]} SET {sets} WHERE id = %s",
                                (*fields.values(), resource_id))

    async def by_provider_ref(self, kind: str, provider: str, ref: str) -> Row | None:
        found = await _rows(self.conn, f"SELECT * FROM {TABLES[kind]} WHERE provider = %s"
                            " AND provider_ref = %s", (provider, ref))
        return found[0] if found else None

    async def attempt(self, kind: str, resource_id: UUID, operation: str, key: str,
                      outcome: str, status: str | None, detail: str | None,
                      started_at: datetime) -> None:
        await self.conn.execute(
            "INSERT INTO payment_attempts (resource_type, resource_id, operation, provider_key,"
            " outcome, provider_status, detail, started_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (kind, resource_id, operation, key, outcome, status, detail, started_at))

    async def step(self, payout_id: UUID, step: str, detail: str = "{}") -> None:
        await self.conn.execute("INSERT INTO payout_steps (payout_id, step, detail)"
                                " VALUES (%s, %s, %s::jsonb)", (payout_id, step, detail))

    async def claim_inbox(self, provider: str, webhook_id: str, event_type: str,
                          object_ref: str, reference: str | None, source: str) -> bool:
        """True for the first delivery. A concurrent duplicate waits here on the primary key
        until the first commits (then False) or rolls back (then True: its turn to apply)."""
        cur = await self.conn.execute(
            "INSERT INTO provider_inbox (provider, webhook_id, event_type, object_ref, reference,"
            " outcome, source) VALUES (%s, %s, %s, %s, %s, 'no-change', %s)"
            " ON CONFLICT DO NOTHING RETURNING 1",
            (provider, webhook_id, event_type, object_ref, reference, source))
        return await cur.fetchone() is not None

    async def inbox_outcome(self, provider: str, webhook_id: str, outcome: str) -> None:
        await self.conn.execute("UPDATE provider_inbox SET outcome = %s WHERE provider = %s"
                                " AND webhook_id = %s", (outcome, provider, webhook_id))

    async def count_rejection(self, provider: str, reason: str) -> None:
        await self.conn.execute(
            "INSERT INTO webhook_rejections (provider, reason, count) VALUES (%s, %s, 1)"
            " ON CONFLICT (provider, reason) DO UPDATE SET count = webhook_rejections.count + 1,"
            " last_at = clock_timestamp()", (provider, reason))

    async def claim_due(self, kind: str, states: tuple[str, ...], limit: int,
                        lease_seconds: float) -> list[UUID]:
        """Open resources nobody drives (lease expired) whose next check is due; leased to the
        caller. SKIP LOCKED: two workers never take the same row."""
        table = TABLES[kind]
        cur = await self.conn.execute(
            f"UPDATE {table} SET lease_until = clock_timestamp() + make_interval(secs => %s)"
            f" WHERE id IN (SELECT id FROM {table} WHERE state = ANY(%s)"
            f"  AND (lease_until IS NULL OR lease_until < clock_timestamp())"
            f"  AND (next_check_at IS NULL OR next_check_at <= clock_timestamp())"
            f"  ORDER BY next_check_at NULLS FIRST LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING id",
            (lease_seconds, list(states), limit))
        return [r[0] for r in await cur.fetchall()]

    async def lease(self, kind: str, resource_id: UUID, seconds: float) -> None:
        await self.conn.execute(
            f"UPDATE {TABLES[kind]} SET lease_until = clock_timestamp()"
            " + make_interval(secs => %s) WHERE id = %s", (seconds, resource_id))

    # --- reads -----------------------------------------------------------------------------
    async def history(self, resource_id: UUID) -> list[Row]:
        return await _rows(self.conn, "SELECT from_state, to_state, cause, at FROM"
                           " payment_state_history WHERE resource_id = %s ORDER BY id",
                           (resource_id,))

    async def attempts(self, resource_id: UUID) -> list[Row]:
        return await _rows(self.conn, "SELECT operation, provider_key, outcome, provider_status,"
                           " detail, started_at, finished_at FROM payment_attempts"
                           " WHERE resource_id = %s ORDER BY id", (resource_id,))

    async def steps(self, payout_id: UUID) -> list[Row]:
        return await _rows(self.conn, "SELECT step, detail, at FROM payout_steps"
                           " WHERE payout_id = %s ORDER BY id", (payout_id,))

    async def refunds_of(self, payment_id: UUID) -> list[Row]:
        return await _rows(self.conn, "SELECT * FROM refunds WHERE payment_id = %s ORDER BY"
                           " created_at", (payment_id,))

    async def webhook_stats(self) -> list[Row]:
        return await _rows(self.conn, """
            SELECT provider, reason, count FROM webhook_rejections
            UNION ALL
            SELECT provider, 'accepted:' || outcome, count(*) FROM provider_inbox
             WHERE source = 'webhook' GROUP BY provider, outcome
            ORDER BY 1, 2""")

    async def by_reference(self, kind: str, reference: str) -> Row | None:
        try:
            resource_id = UUID(reference)
        except ValueError:
            return None
        return await self.get(kind, resource_id)
