"""The async rules' patterns, read from PostgreSQL (the transfers table) with no time budget.

Each pattern is read around one transfer, at that transfer's `created_at` (`at`): the windows end
there, so reading the same event again, however late, gives the same answer. Money "paid" is a
transfer out that moved or reserves money (COMPLETED or PENDING); FAILED, VOIDED and EXPIRED
transfers moved nothing and are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import psycopg

PAID = ("COMPLETED", "PENDING")
OUT_KINDS = ("TRANSFER", "WITHDRAWAL")


@dataclass(frozen=True)
class Thresholds:
    """Where a pattern starts. Amounts in minor units."""

    fan_out_new_beneficiaries: int = 5  # distinct first-time payees in 24 h: flag (medium)
    fan_out_severe: int = 10            # ... and from this many: freeze (high)
    structuring_limit: int = 1_000_000  # the reporting threshold people stay under (10 000.00)
    structuring_band_pct: int = 10      # "just under": within this % below the limit
    structuring_count: int = 3          # that many in 24 h: flag (medium)
    mule_min_in: int = 100_000          # credited in the hour before, at least
    mule_out_pct: int = 80              # and that share of it paid out again: freeze (high)


@dataclass(frozen=True)
class Finding:
    rule: str  # fan-out, structuring, mule
    severity: str  # medium or high
    window_s: int  # the rule's window: a finding already flagged within it is not raised again
    details: dict[str, int]


def _one(conn: psycopg.Connection, sql: str, params: dict[str, object]) -> int:
    row = conn.execute(sql, params).fetchone()
    return int(row[0] or 0) if row else 0


def fan_out(conn: psycopg.Connection, source: UUID, at: datetime, t: Thresholds) -> Finding | None:
    # A beneficiary is new when the source never paid it before the window opened.
    n = _one(conn, """
        SELECT count(DISTINCT w.destination_id) FROM transfers w
         WHERE w.source_id = %(s)s AND w.kind = ANY(%(k)s) AND w.status = ANY(%(p)s)
           AND w.created_at > %(at)s - interval '24 hours' AND w.created_at <= %(at)s
           AND NOT EXISTS (SELECT 1 FROM transfers e WHERE e.source_id = %(s)s
                  AND e.destination_id = w.destination_id AND e.status = ANY(%(p)s)
                  AND e.created_at <= %(at)s - interval '24 hours')""",
             {"s": source, "k": list(OUT_KINDS), "p": list(PAID), "at": at})
    if n < t.fan_out_new_beneficiaries:
        return None
    return Finding("fan-out", "high" if n >= t.fan_out_severe else "medium", 86_400,
                   {"new_beneficiaries_24h": n})


def structuring(conn: psycopg.Connection, source: UUID, at: datetime,
                t: Thresholds) -> Finding | None:
    low = t.structuring_limit * (100 - t.structuring_band_pct) // 100
    n = _one(conn, """
        SELECT count(*) FROM transfers
         WHERE source_id = %(s)s AND kind = ANY(%(k)s) AND status = ANY(%(p)s)
           AND amount >= %(low)s AND amount < %(limit)s
           AND created_at > %(at)s - interval '24 hours' AND created_at <= %(at)s""",
             {"s": source, "k": list(OUT_KINDS), "p": list(PAID), "at": at, "low": low,
              "limit": t.structuring_limit})
    if n < t.structuring_count:
        return None
    return Finding("structuring", "medium", 86_400,
                   {"just_under_24h": n, "band_low": low, "limit": t.structuring_limit})


def mule(conn: psycopg.Connection, account: UUID, at: datetime, t: Thresholds) -> Finding | None:
    """Money in, then most of it out again within the hour: the account is a pass-through."""
    window = {"a": account, "at": at, "p": list(PAID), "k": list(OUT_KINDS)}
    credited = _one(conn, """
        SELECT sum(amount) FROM transfers WHERE destination_id = %(a)s AND status = 'COMPLETED'
           AND created_at > %(at)s - interval '1 hour' AND created_at <= %(at)s""", window)
    if credited < t.mule_min_in:
        return None
    paid = _one(conn, """
        SELECT sum(amount) FROM transfers WHERE source_id = %(a)s AND kind = ANY(%(k)s)
           AND status = ANY(%(p)s)
           AND created_at > %(at)s - interval '1 hour' AND created_at <= %(at)s""", window)
    if paid * 100 < credited * t.mule_out_pct:
        return None
    return Finding("mule", "high", 3_600, {"in_1h": credited, "out_1h": paid})


PATTERNS = (fan_out, structuring, mule)
