"""Phase 2 in the benchmark: facts read from PostgreSQL, and pure verdicts on them.

Everything comes from the outbox, processed_events and dead_letters tables, never from broker
offsets (the embedded broker's end offsets are wrong when producers batch). Both timestamps of a
lag come from the same PostgreSQL clock: outbox.created_at (clock_timestamp() at the INSERT,
inside the transfer's transaction, just before its COMMIT) and processed_events.processed_at
(clock_timestamp() inside the consumer's effect transaction).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from fintech_core.bench.loadgen import percentile


@dataclass(frozen=True)
class Window:
    """The outbox rows with after_seq < seq <= last_seq (seq has gaps: rolled-back inserts)."""

    after_seq: int
    last_seq: int


@dataclass(frozen=True)
class WindowFacts:
    event_ids: list[str]  # the window's outbox rows
    processed: dict[str, list[str]]  # consumer -> event ids of its processed_events rows
    lags_ms: dict[str, list[float]]  # consumer -> processed_at - created_at, per processed event
    dead_letters: dict[str, int]  # consumer -> dead letters in the whole database, any state
    # published_at - created_at per window event: the relay's side. The mark follows the broker's
    # acks, so a consumer may process an event a little before its row is marked.
    publish_lags_ms: list[float] = field(default_factory=list)


def last_seq(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()
    return int(row[0]) if row else 0


def pending(conn: psycopg.Connection, after_seq: int, consumers: tuple[str, ...]
            ) -> dict[str, int]:
    """Rows after `after_seq` still unpublished, and per consumer the rows it has neither
    processed nor dead-lettered. All zero: caught up."""
    row = conn.execute("SELECT count(*) FROM outbox WHERE seq > %s AND published_at IS NULL",
                       (after_seq,)).fetchone()
    out = {"unpublished": int(row[0]) if row else 0}
    for c in consumers:
        row = conn.execute(
            "SELECT count(*) FROM outbox o WHERE o.seq > %(s)s AND NOT EXISTS (SELECT 1 FROM"
            " processed_events p WHERE p.consumer = %(c)s AND p.event_id = o.event_id)"
            " AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.consumer = %(c)s"
            " AND d.event_id = o.event_id)", {"s": after_seq, "c": c}).fetchone()
        out[c] = int(row[0]) if row else 0
    return out


def window_facts(conn: psycopg.Connection, w: Window, consumers: tuple[str, ...]) -> WindowFacts:
    outbox = conn.execute(
        "SELECT event_id::text, extract(epoch FROM published_at - created_at)::float8 * 1000"
        " FROM outbox WHERE seq > %s AND seq <= %s ORDER BY seq",
        (w.after_seq, w.last_seq)).fetchall()
    ids = [r[0] for r in outbox]
    processed: dict[str, list[str]] = {}
    lags: dict[str, list[float]] = {}
    for c in consumers:
        rows = conn.execute(
            "SELECT p.event_id::text, extract(epoch FROM p.processed_at - o.created_at)::float8"
            " * 1000 FROM processed_events p JOIN outbox o ON o.event_id = p.event_id"
            " WHERE p.consumer = %s AND o.seq > %s AND o.seq <= %s",
            (c, w.after_seq, w.last_seq)).fetchall()
        processed[c] = [r[0] for r in rows]
        lags[c] = [float(r[1]) for r in rows]
    dead = dict.fromkeys(consumers, 0)
    for c, n in conn.execute("SELECT consumer, count(*) FROM dead_letters GROUP BY consumer"):
        dead[c] = int(n)
    return WindowFacts(ids, processed, lags, dead, [r[1] for r in outbox if r[1] is not None])


def lag_stats(lags_ms: list[float]) -> dict[str, float | int]:
    s = sorted(lags_ms)
    return {"count": len(s), **{k: round(percentile(s, q), 1) for k, q in
                                (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))},
            "max": round(s[-1], 1) if s else 0.0}


def verdict(facts: WindowFacts, created: int, caught_up: bool, read_models_ok: bool
            ) -> tuple[dict[str, bool], dict[str, dict[str, int]]]:
    """The events checks of the window, and per consumer what is missing, doubled or foreign.
    `created` is the number of 201s the clients saw in the window: each is one transfer and
    must be announced by exactly one outbox row."""
    expected = Counter(facts.event_ids)
    detail = {}
    for c, ids in facts.processed.items():
        seen = Counter(ids)
        detail[c] = {"missing": sum((expected - seen).values()),
                     "duplicates": sum(n - 1 for n in seen.values() if n > 1),
                     "foreign": sum(1 for e in seen if e not in expected)}
    checks = {
        "events_caught_up": caught_up,
        "one_event_per_201": len(facts.event_ids) == created and all(
            n == 1 for n in expected.values()),
        "each_event_processed_once": bool(detail) and all(
            Counter(ids) == Counter(set(facts.event_ids)) for ids in facts.processed.values()),
        "no_dead_letters": not any(facts.dead_letters.values()),
        "read_models_verify": read_models_ok,
    }
    return checks, detail


def relay_batches(conn: psycopg.Connection, w: Window) -> list[tuple[int, datetime]]:
    """(rows, mark time) per relay claim, in order. One claim marks its rows in one UPDATE, in
    one transaction, so the rows' xmin (the marking transaction's id) tells the claims apart."""
    return [(int(n), at) for n, at in conn.execute(
        "SELECT count(*), max(published_at) FROM outbox WHERE seq > %s AND seq <= %s"
        " AND published_at IS NOT NULL GROUP BY xmin::text ORDER BY 2",
        (w.after_seq, w.last_seq))]


def relay_rate(batches: list[tuple[int, datetime]], started_at: datetime
               ) -> dict[str, float | int | None]:
    """Steady rate: the rows of claims 2..n over the time from the first claim's mark to the
    last one's, i.e. whole claim cycles (read, produce and wait for acks, mark, commit). The
    first claim also paid for the relay's start-up (process, connections, topics), reported
    apart as `first_publish_after_s` and in the from-start rate."""
    events = sum(n for n, _ in batches)
    out: dict[str, float | int | None] = {"events": events, "batches": len(batches),
                                          "events_per_second": None,
                                          "from_start_events_per_second": None,
                                          "first_publish_after_s": None}
    if not batches:
        return out
    first, last = batches[0][1], batches[-1][1]
    out["first_publish_after_s"] = round((first - started_at).total_seconds(), 3)
    if (total := (last - started_at).total_seconds()) > 0:
        out["from_start_events_per_second"] = round(events / total, 1)
    if len(batches) > 1 and (span := (last - first).total_seconds()) > 0:
        out["events_per_second"] = round((events - batches[0][0]) / span, 1)
    return out
