"""The relay: outbox rows -> broker, at least once, in per-key order, surviving broker outages.

One claim is one transaction: take the lanes no other relay holds (advisory locks), lock up to
`batch` unpublished rows of those lanes (FOR UPDATE SKIP LOCKED), publish them with acks=all and
wait for every acknowledgement, then mark them published and COMMIT. Consequences:
- a crash before COMMIT leaves the rows unpublished: they are published again (a duplicate the
  consumers absorb), never lost;
- a broker error rolls the claim back; the backlog simply grows and drains when the broker is
  back (the producer is rebuilt, topics recreated);
- two relays never hold the same lane, and one key always maps to one lane, so events of one
  account are never published out of order, however many relays run.
The relay sleeps on LISTEN (woken at the outbox's COMMIT) with a short poll as the fallback.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from kafka import KafkaProducer

from fintech_core.events.leases import new_incarnation
from fintech_core.events.topics import Topics, ensure_topics

log = logging.getLogger("fincore.relay")
LANES = 8
LANE_LOCK = 7_302_002  # advisory-lock namespace of the relay lanes
CHANNEL = "fincore_outbox"

_CLAIM = (
    "SELECT seq, event_id, aggregate_type, aggregate_id, event_type, payload::text, headers,"
    " created_at FROM outbox WHERE published_at IS NULL AND lane = ANY(%(lanes)s)"
    " ORDER BY seq LIMIT %(n)s FOR UPDATE SKIP LOCKED")


@dataclass
class RelayConfig:
    database_url: str
    bootstrap: str
    topics: Topics
    partitions: int = 3
    batch: int = 500
    poll_seconds: float = 0.5
    retention_hours: float = 24.0
    crash_after_publish: bool = False


def make_producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                         linger_ms=2, max_block_ms=5000, request_timeout_ms=5000,
                         delivery_timeout_ms=10000, retry_backoff_ms=200,
                         # Topics are created explicitly (partitions!); an auto-created one after
                         # a broker restart would get the broker's default count instead.
                         allow_auto_create_topics=False)


def envelope_bytes(row: tuple[Any, ...]) -> bytes:
    seq, event_id, agg_type, agg_id, event_type, payload, _headers, created_at = row
    # The payload is already JSON text from the database: spliced, not re-encoded.
    return (f'{{"event_id":"{event_id}","event_type":"{event_type}",'
            f'"aggregate_type":"{agg_type}","aggregate_id":"{agg_id}",'
            f'"occurred_at":"{created_at.isoformat()}","outbox_seq":{seq},'
            f'"payload":{payload}}}').encode()


def kafka_headers(row: tuple[Any, ...]) -> list[tuple[str, bytes]]:
    headers = {**row[6], "event_type": row[4], "event_id": str(row[1])}
    return [(k, str(v).encode()) for k, v in headers.items()]


def requeue_unconsumed(conn: psycopg.Connection) -> int:
    """Mark unpublished again every retained event that some consumer has not processed: after
    a broker restart they exist nowhere but here. Consumers absorb the duplicates."""
    from fintech_core.events.registry import CONSUMER_NAMES

    # Phase 2's consumers, and any other that ever held a partition here (a later phase's
    # consumer worker, e.g. phase 5's fraud-async): an event one of them missed is requeued.
    names = sorted(set(CONSUMER_NAMES) | {r[0] for r in conn.execute(
        "SELECT DISTINCT consumer FROM consumer_partitions").fetchall()})
    cur = conn.execute(
        "UPDATE outbox o SET published_at = NULL WHERE published_at IS NOT NULL AND"
        " (SELECT count(*) FROM processed_events p WHERE p.event_id = o.event_id"
        "  AND p.consumer = ANY(%s)) < %s", (names, len(names)))
    log.warning("the broker lost its topics: %d events requeued for publication", cur.rowcount)
    return cur.rowcount


@dataclass
class Relay:
    config: RelayConfig
    producer_factory: Callable[[str], Any] = make_producer
    published: int = 0
    requeued: int = 0
    _producer: Any = None
    _incarnation: str | None = None  # the events topic's broker id, seen at connect
    _recorded: str | None = None  # the id this relay last recorded in event_topics
    _stop: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        self._stop.set()

    def _ensure_producer(self) -> None:
        """Connect if needed, and note the events topic's incarnation (its broker id)."""
        if self._producer is None:
            ids = ensure_topics(self.config.bootstrap, self.config.topics,
                                self.config.partitions)
            self._incarnation = ids.get(self.config.topics.events)
            self._producer = self.producer_factory(self.config.bootstrap)

    def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=1)
            except Exception:  # a producer of a dead broker may fail to close; it is discarded
                log.debug("producer close failed", exc_info=True)

    def claim_and_publish(self, conn: psycopg.Connection) -> int:
        """One claim; returns how many rows were published and marked."""
        self._ensure_producer()
        if self._incarnation is not None and self._incarnation != self._recorded:
            # A new topic id: the broker lost the topic (memory storage) and it was recreated,
            # by us or by a consumer's fetch. Whatever was published before exists only in the
            # outbox. In one transaction: re-queue the unconsumed events, and restart every
            # consumer at offset 0 with its leases revoked (positions in the lost topic mean
            # nothing here; a consumer still reading at one fails its fence). Any records
            # published to the new topic before this point are re-read from 0, so none is
            # skipped, whenever the change is noticed.
            with conn.transaction():
                if new_incarnation(conn, self.config.topics.events, self._incarnation):
                    self.requeued += requeue_unconsumed(conn)
            self._recorded = self._incarnation
        with conn.transaction():
            lanes = [r[0] for r in conn.execute(
                "SELECT l FROM generate_series(0, %s) l WHERE pg_try_advisory_xact_lock(%s, l)",
                (LANES - 1, LANE_LOCK))]
            if not lanes:
                return 0
            rows = conn.execute(_CLAIM, {"lanes": lanes, "n": self.config.batch}).fetchall()
            if not rows:
                return 0
            producer = self._producer
            futures = [producer.send(self.config.topics.events, key=str(r[3]).encode(),
                                     value=envelope_bytes(r), headers=kafka_headers(r))
                       for r in rows]
            producer.flush(timeout=15)
            for f in futures:
                f.get(timeout=15)  # raises if the broker did not acknowledge: roll back
            if self.config.crash_after_publish:
                log.warning("drill: exiting after publishing %d rows, before marking", len(rows))
                os._exit(17)
            conn.execute("UPDATE outbox SET published_at = clock_timestamp(),"
                         " publish_count = publish_count + 1 WHERE seq = ANY(%s)",
                         ([r[0] for r in rows],))
        self.published += len(rows)
        return len(rows)

    def reap(self, conn: psycopg.Connection) -> int:
        with conn.transaction():
            cur = conn.execute("DELETE FROM outbox WHERE published_at < now() - make_interval("
                               "secs => %s)", (self.config.retention_hours * 3600,))
        return cur.rowcount

    def run(self, max_seconds: float | None = None) -> None:
        """Until stop() (or `max_seconds`). Broker errors back off and retry; never exits."""
        cfg = self.config
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        backoff, last_reap, last_check = 0.0, 0.0, time.monotonic()
        with psycopg.connect(cfg.database_url) as conn, \
                psycopg.connect(cfg.database_url, autocommit=True) as listener:
            listener.execute(f"LISTEN {CHANNEL}")
            while not self._stop.is_set() and (deadline is None or time.monotonic() < deadline):
                try:
                    n = self.claim_and_publish(conn)
                    backoff = 0.0
                except psycopg.OperationalError:
                    raise  # the database is gone: let the supervisor see the exit
                except Exception as exc:
                    log.warning("publish failed (%s); backlog kept, retrying", exc)
                    self._drop_producer()
                    backoff = min(max(backoff * 2, 0.2), 5.0)
                    self._stop.wait(backoff)
                    continue
                if time.monotonic() - last_reap > 60:
                    last_reap = time.monotonic()
                    self.reap(conn)
                if time.monotonic() - last_check > 5:
                    last_check = time.monotonic()
                    self._drop_producer()  # idle or not: re-check topics, see _ensure_producer
                if n < cfg.batch:
                    # Sleep until a COMMIT notifies (or the poll fallback); drain the queue so
                    # a burst of notifications costs one wake-up.
                    for _ in listener.notifies(timeout=cfg.poll_seconds, stop_after=1):
                        pass
        self._drop_producer()
