"""Operator views and actions: status, verify, replay, dead letters. All from PostgreSQL: the
embedded broker's offsets and watermarks are not trusted for progress (they are wrong when
producers batch), and its topics vanish on restart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from fintech_core.events.consumer import Delivery, Outcome, process
from fintech_core.events.registry import CONSUMER_NAMES, handler


@dataclass(frozen=True)
class ConsumerProgress:
    consumer: str
    processed: int
    behind: int  # published, retained, not processed by this consumer (dead letters included)
    dead: int  # open dead letters
    lag_p50_ms: float | None  # outbox.created_at -> processed_at, over the latest 1,000
    lag_p99_ms: float | None


@dataclass(frozen=True)
class Status:
    unpublished: int
    oldest_unpublished_s: float | None
    published_retained: int
    consumers: list[ConsumerProgress]


def status(conn: psycopg.Connection) -> Status:
    unpublished, oldest = conn.execute(
        "SELECT count(*), extract(epoch FROM now() - min(created_at))::float8 FROM outbox"
        " WHERE published_at IS NULL").fetchone() or (0, None)
    (published,) = conn.execute(
        "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL").fetchone() or (0,)
    progress = []
    for name in CONSUMER_NAMES:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM processed_events WHERE consumer = %(c)s),"
            " (SELECT count(*) FROM outbox o WHERE o.published_at IS NOT NULL AND NOT EXISTS"
            "   (SELECT 1 FROM processed_events p WHERE p.consumer = %(c)s"
            "    AND p.event_id = o.event_id)),"
            " (SELECT count(*) FROM dead_letters WHERE consumer = %(c)s AND resolved_at IS NULL)",
            {"c": name}).fetchone()
        assert row is not None
        p50, p99 = lag(conn, name)
        progress.append(ConsumerProgress(name, row[0], row[1], row[2], p50, p99))
    return Status(unpublished, oldest, published, progress)


def lag(conn: psycopg.Connection, consumer: str, last: int = 1000
        ) -> tuple[float | None, float | None]:
    """Commit-to-consume lag: the outbox row's time (written just before COMMIT) to the
    processed_events row's time (in the consumer's effect transaction)."""
    row = conn.execute(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms),"
        " percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) FROM (SELECT extract(epoch FROM"
        " p.processed_at - o.created_at) * 1000 AS ms FROM processed_events p JOIN outbox o"
        " ON o.event_id = p.event_id WHERE p.consumer = %s ORDER BY p.processed_at DESC"
        " LIMIT %s) x", (consumer, last)).fetchone()
    return (row[0], row[1]) if row else (None, None)


def positions(conn: psycopg.Connection) -> dict[tuple[str, int], list[tuple[str, int, str]]]:
    """(topic, partition) -> [(consumer, offset it resumes at, owner with a live lease or "")]:
    the consumers' positions are PostgreSQL rows (consumer_partitions), not broker offsets."""
    out: dict[tuple[str, int], list[tuple[str, int, str]]] = {}
    for topic, part, consumer, offset, owner in conn.execute(
            "SELECT topic, kafka_partition, consumer, next_offset, CASE WHEN lease_expires_at"
            " > now() THEN owner ELSE '' END FROM consumer_partitions ORDER BY 1, 2, 3"):
        out.setdefault((topic, part), []).append((consumer, offset, owner))
    return out


@dataclass(frozen=True)
class Verify:
    drift: list[tuple[Any, ...]]  # (account, bucket, ledger sum, projection sum) that differ
    entries_in_ledger: int
    entries_projected: int
    missing_in_audit: int  # published, retained events the audit trail lacks

    @property
    def ok(self) -> bool:
        return not self.drift and self.entries_in_ledger == self.entries_projected \
            and self.missing_in_audit == 0


def verify(conn: psycopg.Connection) -> Verify:
    """Compare the events-fed read models with the ledger. Meaningful once consumers caught up
    (status shows behind = 0)."""
    drift = conn.execute(
        "WITH l AS (SELECT account_id, bucket, sum(signed_amount) AS s FROM postings GROUP BY 1, 2),"
        " a AS (SELECT account_id, bucket, sum(amount) AS s FROM account_activity GROUP BY 1, 2)"
        " SELECT coalesce(l.account_id, a.account_id), coalesce(l.bucket, a.bucket), l.s, a.s"
        " FROM l FULL JOIN a ON l.account_id = a.account_id AND l.bucket = a.bucket"
        " WHERE coalesce(l.s, 0) <> coalesce(a.s, 0) ORDER BY 1, 2").fetchall()
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM journal_entries),"
        " (SELECT count(DISTINCT entry_id) FROM account_activity),"
        " (SELECT count(*) FROM outbox o WHERE published_at IS NOT NULL AND NOT EXISTS"
        "  (SELECT 1 FROM audit_trail a WHERE a.event_id = o.event_id))").fetchone()
    assert counts is not None
    return Verify(drift, counts[0], counts[1], counts[2])


def replay(conn: psycopg.Connection, first_seq: int, last_seq: int) -> int:
    """Publish the outbox rows seq in [first, last] again (the relay does it, in order)."""
    with conn.transaction():
        cur = conn.execute("UPDATE outbox SET published_at = NULL WHERE seq BETWEEN %s AND %s"
                           " AND published_at IS NOT NULL", (first_seq, last_seq))
    return cur.rowcount


def dead_letters(conn: psycopg.Connection, consumer: str | None = None,
                 include_resolved: bool = False) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT id, consumer, event_id, event_type, attempts, error, topic, kafka_partition,"
        " kafka_offset, dead_at, resolved_at FROM dead_letters WHERE (%(c)s::text IS NULL OR"
        " consumer = %(c)s) AND (%(all)s OR resolved_at IS NULL) ORDER BY id",
        {"c": consumer, "all": include_resolved}).fetchall()


def replay_dead_letters(conn: psycopg.Connection, consumer: str | None = None,
                        max_attempts: int = 1) -> dict[str, int]:
    """Feed open dead letters back through their consumer's handler, in this process (which
    runs the fixed code). Safe to repeat: the handler applies an event once."""
    outcomes = {o.value: 0 for o in Outcome}
    rows = conn.execute(
        "SELECT id, consumer, topic, kafka_partition, kafka_offset, record_key, record_value,"
        " record_headers FROM dead_letters WHERE resolved_at IS NULL AND (%s::text IS NULL OR"
        " consumer = %s) ORDER BY id", (consumer, consumer)).fetchall()
    for row_id, name, topic, partition, offset, key, value, headers in rows:
        d = Delivery(topic, partition, offset, key, bytes(value),
                     tuple((k, str(v).encode()) for k, v in headers.items()))

        def still_dead(_d: Delivery, _e: object, error: str, attempts: int,
                       row_id: int = row_id) -> None:
            conn.execute("UPDATE dead_letters SET error = %s, attempts = attempts + %s"
                         " WHERE id = %s", (error, attempts, row_id))

        outcome = process(conn, handler(name), d, still_dead, max_attempts=max_attempts,
                          backoff_ms=0)
        if outcome is not Outcome.DEAD:
            conn.execute("UPDATE dead_letters SET resolved_at = coalesce(resolved_at,"
                         " clock_timestamp()) WHERE id = %s", (row_id,))
        outcomes[outcome.value] += 1
    return outcomes
