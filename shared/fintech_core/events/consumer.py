"""The consumer framework: apply each event once, retry transient failures, dead-letter the rest.

Guarantees, and why:
- once per (consumer, event id): the processed_events row and the effect commit in one
  transaction; a redelivered event finds the row and is skipped (DUPLICATE);
- no loss, no replay: the consumer's position (its offset, stored in PostgreSQL by the runner's
  `fence`) advances in that same transaction, so a crash resumes at the first event not applied;
  events delivered twice anyway (the relay republishes after its own crash) hit the rule above;
- no crash loop: a message that cannot be parsed or names an unknown version is dead-lettered at
  once; any other failure is retried `max_attempts` times with doubling backoff, then
  dead-lettered. Either way the consumer moves on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import psycopg
from pydantic import ValidationError

from fintech_core.events.contracts import Contract, Envelope, UnknownEvent, parse
from fintech_core.events.leases import LeaseLost


class Handler(Protocol):
    name: str

    def apply(self, conn: psycopg.Connection, envelope: Envelope, event: Contract,
              headers: dict[str, str]) -> None:
        """The effect, inside the caller's transaction. Raise to fail the attempt."""


@dataclass(frozen=True)
class Delivery:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()

    def header_map(self) -> dict[str, str]:
        return {k: v.decode(errors="replace") for k, v in self.headers}


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    DEAD = "dead-lettered"


OnDead = Callable[[Delivery, "Envelope | None", str, int], None]
# Runs first in the transaction that applies or dead-letters a delivery: the runner advances the
# stored offset there, fenced by its partition lease (raising leases.LeaseLost, never retried).
Fence = Callable[[psycopg.Connection], None]


def decode(delivery: Delivery) -> tuple[Envelope, Contract]:
    envelope = Envelope.model_validate_json(delivery.value)
    return envelope, parse(envelope)


def _apply_once(conn: psycopg.Connection, handler: Handler, d: Delivery, envelope: Envelope,
                event: Contract, fence: Fence | None) -> Outcome:
    with conn.transaction():
        if fence is not None:
            fence(conn)
        first = conn.execute(
            "INSERT INTO processed_events (consumer, event_id, event_type, outbox_seq, topic,"
            " kafka_partition, kafka_offset) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING RETURNING 1",
            (handler.name, envelope.event_id, envelope.event_type, envelope.outbox_seq,
             d.topic, d.partition, d.offset)).fetchone()
        if first is not None:
            handler.apply(conn, envelope, event, d.header_map())
        conn.execute("UPDATE dead_letters SET resolved_at = clock_timestamp() WHERE consumer = %s"
                     " AND event_id = %s AND resolved_at IS NULL",
                     (handler.name, envelope.event_id))
    return Outcome.APPLIED if first is not None else Outcome.DUPLICATE


def process(conn: psycopg.Connection, handler: Handler, d: Delivery, on_dead: OnDead, *,
            max_attempts: int = 3, backoff_ms: int = 100,
            sleep: Callable[[float], None] = time.sleep, fence: Fence | None = None) -> Outcome:
    try:
        envelope, event = decode(d)
    except (ValidationError, UnknownEvent, ValueError) as exc:
        # Permanent: retrying the same bytes cannot help. Name the event if the envelope parsed.
        try:
            envelope_or_none: Envelope | None = Envelope.model_validate_json(d.value)
        except ValidationError:
            envelope_or_none = None
        on_dead(d, envelope_or_none, f"{type(exc).__name__}: {exc}"[:2000], 1)
        return Outcome.DEAD
    error = ""
    for attempt in range(1, max_attempts + 1):
        try:
            return _apply_once(conn, handler, d, envelope, event, fence)
        except LeaseLost:
            raise  # not this process's partition any more: its new owner applies the event
        except psycopg.OperationalError:
            if conn.broken:
                raise  # the database is gone: exit uncommitted, be redelivered after restart
            error = "OperationalError"
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
        if attempt < max_attempts:
            sleep(backoff_ms / 1000 * 2 ** (attempt - 1))
    on_dead(d, envelope, error, max_attempts)
    return Outcome.DEAD


def record_dead(conn: psycopg.Connection, consumer: str, d: Delivery, envelope: Envelope | None,
                error: str, attempts: int, fence: Fence | None = None) -> None:
    """The durable dead letter (the embedded broker's DLQ topic does not survive a restart)."""
    with conn.transaction():
        if fence is not None:
            fence(conn)
        conn.execute(
            "INSERT INTO dead_letters (consumer, event_id, event_type, error, attempts, topic,"
            " kafka_partition, kafka_offset, record_key, record_value, record_headers)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)"
            " ON CONFLICT (consumer, event_id) WHERE resolved_at IS NULL DO UPDATE SET"
            " error = excluded.error, attempts = dead_letters.attempts + excluded.attempts,"
            " dead_at = excluded.dead_at",
            (consumer, envelope.event_id if envelope else None,
             envelope.event_type if envelope else None, error, attempts, d.topic, d.partition,
             d.offset, d.key, d.value, json.dumps(d.header_map())))


def dlq_headers(consumer: str, d: Delivery, error: str, attempts: int) -> list[tuple[str, bytes]]:
    extra = {"dlq.consumer": consumer, "dlq.error": error, "dlq.attempts": str(attempts),
             "dlq.topic": d.topic, "dlq.partition": str(d.partition), "dlq.offset": str(d.offset)}
    return [*d.headers, *((k, v.encode()) for k, v in extra.items())]


def delivery_of(record: Any) -> Delivery:
    return Delivery(record.topic, record.partition, record.offset, record.key, record.value,
                    tuple((k, v or b"") for k, v in (record.headers or [])))
