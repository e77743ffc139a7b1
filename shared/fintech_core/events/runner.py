"""Run a handler against the broker: partitions leased in PostgreSQL, offsets stored with the
effects, no broker consumer group.

The process assigns itself the partitions it holds a lease on (KafkaConsumer.assign, then seek to
the stored offset) and applies each record in one transaction that first advances the stored
offset, fenced by its lease ([leases](leases.py)), then writes processed_events and the effect.
Nothing is ever committed to the broker. Why: with broker groups, a consumer killed
mid-rebalance once left a whole group looping on "SyncGroup failed due to coordinator
rebalance" on the embedded broker, processing nothing until the broker restarted; and every
kill paused every member of the group for a rebalance. Here the broker is only asked for
records at an offset, which it cannot get wrong by a rebalance.

When the events topic is recreated (the memory broker restarted), its broker id changes; the
relay notices, and resets the stored offsets in the transaction that re-queues the events, so a
consumer never keeps a position from the lost topic. Partitions come from the topic's metadata:
a topic the broker recreated by itself may have a different count, and the leases follow it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from kafka import KafkaConsumer, TopicPartition

from fintech_core.events.consumer import (
    Delivery,
    Handler,
    Outcome,
    delivery_of,
    dlq_headers,
    process,
    record_dead,
)
from fintech_core.events.contracts import Envelope
from fintech_core.events.leases import LeaseLost, Leases
from fintech_core.events.relay import make_producer
from fintech_core.events.topics import Topics, ensure_topics

log = logging.getLogger("fincore.consumer")


@dataclass
class ConsumerConfig:
    database_url: str
    bootstrap: str
    topics: Topics
    partitions: int = 3
    max_attempts: int = 3
    backoff_ms: int = 100
    lease_seconds: float = 6.0


@dataclass
class ConsumerRunner:
    handler: Handler
    config: ConsumerConfig
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    leases: Leases | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _producer: Any = None

    def __post_init__(self) -> None:
        self.leases = self.leases or Leases(self.handler.name, self.config.topics.events,
                                            self.config.lease_seconds)

    def stop(self) -> None:
        self._stop.set()

    def _dead(self, conn: psycopg.Connection, fence: Any, d: Delivery,
              envelope: Envelope | None, error: str, attempts: int) -> None:
        # The DLQ topic first, then the dead letter with the offset: a crash in between sends
        # the message to the DLQ topic twice, never zero times.
        if self._producer is None:
            self._producer = make_producer(self.config.bootstrap)
        self._producer.send(self.config.topics.dlq, key=d.key, value=d.value,
                            headers=dlq_headers(self.handler.name, d, error, attempts)
                            ).get(timeout=15)
        record_dead(conn, self.handler.name, d, envelope, error, attempts, fence)
        log.warning("%s dead-lettered %s@%s/%s: %s", self.handler.name, d.topic, d.partition,
                    d.offset, error)

    def _connect(self) -> KafkaConsumer:
        ensure_topics(self.config.bootstrap, self.config.topics, self.config.partitions,
                      only=(self.config.topics.dlq,))
        return KafkaConsumer(
            bootstrap_servers=self.config.bootstrap, group_id=None, enable_auto_commit=False,
            # Only when a stored offset lies beyond the topic (recreated by something other
            # than the relay): start over; processed_events absorbs the repeats.
            auto_offset_reset="earliest", max_poll_records=500, request_timeout_ms=7000,
            # How long the broker may hold a fetch that found nothing new. The embedded broker
            # does not answer a held fetch early when records arrive, so kafka-python's default
            # (500 ms) became the commit-to-consume lag. 50 ms costs an idle consumer 20 small
            # fetches a second.
            fetch_max_wait_ms=50, allow_auto_create_topics=False)

    def _tick(self, conn: psycopg.Connection, consumer: KafkaConsumer, partitions: int) -> None:
        """Renew and rebalance the leases; assign and seek what changed."""
        assert self.leases is not None
        before = {p: c.epoch for p, c in self.leases.owned.items()}
        changed = self.leases.tick(conn, partitions)
        topic = self.config.topics.events
        owned = self.leases.owned
        wanted = {TopicPartition(topic, p) for p in owned}
        if not changed and wanted == consumer.assignment():
            return
        consumer.assign(sorted(wanted))
        for p, claim in owned.items():
            if before.get(p) != claim.epoch:  # newly claimed: resume at the stored offset
                consumer.seek(TopicPartition(topic, p), claim.next_offset)
        log.info("%s owns partitions %s", self.handler.name, sorted(owned))

    def _apply(self, conn: psycopg.Connection, record: Any) -> None:
        assert self.leases is not None
        leases, p, nxt = self.leases, record.partition, record.offset + 1

        def fence(c: psycopg.Connection) -> None:
            leases.advance(c, p, nxt)

        outcome = process(conn, self.handler, delivery_of(record),
                          lambda *a: self._dead(conn, fence, *a),
                          max_attempts=self.config.max_attempts,
                          backoff_ms=self.config.backoff_ms, fence=fence)
        leases.committed(p, nxt)
        self.counts[outcome] += 1

    def _poll_once(self, conn: psycopg.Connection, consumer: KafkaConsumer,
                   next_tick: float) -> float:
        assert self.leases is not None
        topic = self.config.topics.events
        partitions = len(consumer.partitions_for_topic(topic) or ())
        if not partitions:  # the relay creates the topic; wait for it
            self._stop.wait(0.5)
            return next_tick
        renew_every = self.config.lease_seconds / 3
        if time.monotonic() >= next_tick:
            self._tick(conn, consumer, partitions)
            next_tick = time.monotonic() + renew_every
        if not self.leases.owned:
            self._stop.wait(min(renew_every, 0.5))
            return next_tick
        # A record is applied only under the claim it was fetched under: a partition lost, or
        # lost and claimed again (a new epoch, perhaps a reset offset), during this batch keeps
        # the rest of its records out; the next poll starts at the position its claim sought.
        epochs = {p: c.epoch for p, c in self.leases.owned.items()}
        for tp, records in consumer.poll(timeout_ms=200).items():
            for record in records:
                claim = self.leases.owned.get(tp.partition)
                if claim is None or claim.epoch != epochs.get(tp.partition):
                    break
                try:
                    self._apply(conn, record)
                except LeaseLost:
                    log.warning("%s lost partition %s", self.handler.name, tp.partition)
                    self.leases.owned.pop(tp.partition, None)
                    next_tick = 0.0
                    break
                if time.monotonic() >= next_tick:  # a slow batch must not outlive its leases
                    self._tick(conn, consumer, partitions)
                    next_tick = time.monotonic() + renew_every
        return next_tick

    def run(self, max_seconds: float | None = None) -> None:
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        consumer = None
        assert self.leases is not None
        with psycopg.connect(self.config.database_url, autocommit=True) as conn:
            next_tick = 0.0
            try:
                while not self._stop.is_set() and (deadline is None
                                                   or time.monotonic() < deadline):
                    try:
                        consumer = consumer or self._connect()
                        next_tick = self._poll_once(conn, consumer, next_tick)
                    except psycopg.OperationalError:
                        raise
                    except Exception as exc:
                        # Broker trouble: drop the client, back off, reconnect. Positions are
                        # in PostgreSQL, so nothing is lost with the client.
                        log.warning("%s: %s; reconnecting", self.handler.name, exc)
                        if consumer is not None:
                            consumer.close()
                        consumer, next_tick = None, 0.0
                        # Given back, then claimed again (and sought) once reconnected.
                        self.leases.release(conn, list(self.leases.owned))
                        self._stop.wait(1.0)
            finally:
                if not conn.broken:
                    self.leases.leave(conn)
        if consumer is not None:
            consumer.close()
        if self._producer is not None:
            self._producer.close(timeout=2)
