# GENERATED from the lab's solution/ by `./fcl lab generate`: do not edit in the repository.
# Start lab 3 as its README says (that copies this file to your workspace) and edit your copy.
"""Lab 3: an idempotent consumer with a dead-letter queue.

The broker delivers every message *at least* once: a producer retries a send whose ack was lost,
a consumer crashes after its work but before its offset moved on. The account-activity read
model must still count each event once, and a message that can never be applied must not stop
the stream behind it. The polling loop (`consume`), the parser, the effect and the dead-letter
publisher are given; your part is `handle`, which decides what happens to one message.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

CONSUMER = "account-activity"  # this consumer's name in lab3_processed_events
SCHEMA_VERSION = 1  # the only event version this consumer understands
MAX_ATTEMPTS = 3  # attempts in all for a transient failure, the first one included

APPLIED, DUPLICATE, DEAD_LETTERED = "applied", "duplicate", "dead-lettered"


class InvalidEvent(Exception):
    """The message is not a valid event (bad JSON, a missing or mistyped field): no retry fixes it."""


class UnknownVersion(Exception):
    """A valid envelope with a schema version this consumer does not know: retrying cannot help."""


class TransientError(Exception):
    """The read model is briefly unavailable (a failover, a lock timeout): trying again may work."""


@dataclass(frozen=True)
class Event:
    event_id: str
    account_id: str
    amount: int  # minor units; negative is a debit


def parse(value: bytes | None) -> Event:
    """GIVEN: decode a message value, or raise InvalidEvent / UnknownVersion saying why."""
    try:
        data = json.loads(value or b"")
    except ValueError as exc:
        raise InvalidEvent(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidEvent("not a JSON object")
    if data.get("version") != SCHEMA_VERSION:
        raise UnknownVersion(f"schema version {data.get('version')!r}, expected {SCHEMA_VERSION}")
    event_id, account_id, amount = data.get("event_id"), data.get("account_id"), data.get("amount")
    if not isinstance(event_id, str) or not event_id or not isinstance(account_id, str):
        raise InvalidEvent("event_id and account_id must be non-empty strings")
    if type(amount) is not int or amount == 0:  # bool is an int subclass; a float is no money
        raise InvalidEvent(f"amount must be a non-zero integer, got {amount!r}")
    return Event(event_id, account_id, amount)


def apply_effect(conn: psycopg.Connection, event: Event) -> None:
    """GIVEN: the event's effect on the read model. Not idempotent by itself; call it inside a
    transaction you opened. May raise TransientError."""
    conn.execute("INSERT INTO lab3_account_activity (account_id, event_id, amount)"
                 " VALUES (%s, %s, %s)", (event.account_id, event.event_id, event.amount))


def dead_letter(producer: KafkaProducer, dlq_topic: str, message: Any, error: str,
                attempts: int) -> None:
    """GIVEN: publish `message` unchanged to the DLQ with why it failed and where it came from.
    Waits for the broker's ack, so the message is safe in the DLQ before the offset moves on."""
    headers = {"error": error, "attempts": str(attempts), "original-topic": message.topic,
               "original-partition": str(message.partition),
               "original-offset": str(message.offset)}
    producer.send(dlq_topic, key=message.key, value=message.value,
                  headers=[(k, v.encode()) for k, v in headers.items()]).get(timeout=10)


def handle(conn: psycopg.Connection, producer: KafkaProducer, message: Any,
           dlq_topic: str) -> str:
    """Apply one message at most once, or dead-letter it; answer APPLIED, DUPLICATE or
    DEAD_LETTERED.

    `conn` is in autocommit mode. `message` has .topic, .partition, .offset, .key and .value.
    An exception other than the three above is a crash: let it propagate, so the offset does
    not move and the message is delivered again.
    """
    # TODO (lab 3): write this part.
    # hint: parse() first. InvalidEvent and UnknownVersion never get better: dead-letter at once.
    # hint: Mark lab3_processed_events and apply_effect in ONE transaction, so both or neither.
    # hint: INSERT ... ON CONFLICT DO NOTHING RETURNING: no row back means a redelivery.
    # hint: On TransientError try again, MAX_ATTEMPTS attempts in all, then dead-letter.
    raise NotImplementedError("lab 3: this part is yours to write (see the hint above)")


def consume(conn: psycopg.Connection, producer: KafkaProducer, bootstrap: str, topic: str,
            dlq_topic: str, checkpoint: dict[int, int], count: int,
            timeout: float = 15) -> list[str]:
    """GIVEN: the polling loop. Read `count` messages of `topic` from `checkpoint` (partition ->
    next offset, 0 when absent), pass each to `handle` in partition order, and return the
    outcomes.

    A partition's checkpoint moves past a message only after `handle` returned, i.e. after its
    effect committed or it was dead-lettered: that is what makes delivery at-least-once. If
    `handle` raises, the checkpoint stays on that message and the next run delivers it again.
    The checkpoint stands in for the offsets a consumer group would commit; the lab assigns
    partitions by hand, so no group rebalance slows it down.
    """
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p)
                      for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, checkpoint.get(tp.partition, 0))
        outcomes: list[str] = []
        deadline = time.monotonic() + timeout
        while len(outcomes) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"read {len(outcomes)} of {count} messages from {topic}")
            for tp, records in consumer.poll(timeout_ms=200).items():
                for message in records:
                    outcomes.append(handle(conn, producer, message, dlq_topic))
                    checkpoint[tp.partition] = message.offset + 1
        return outcomes
    finally:
        consumer.close()
