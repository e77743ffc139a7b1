"""Lab 3 acceptance tests. Each test's first docstring paragraph is an acceptance criterion; the
README lists the same lines and `fcl lab check 3` reports them one by one.

Real PostgreSQL, real Kafka-protocol broker: each test makes its own topics (fresh names), so
tests never see each other's messages.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from fintech_core.labs.database import apply_sql
from fintech_core.labs.loader import load_student_module

Connect = Callable[[], psycopg.Connection]


@pytest.fixture(scope="module")
def impl() -> ModuleType:
    return load_student_module("idempotent_consumer.py")


@pytest.fixture(scope="module")
def db_schema(database_url: str) -> None:
    apply_sql(database_url, Path(__file__).parents[1] / "schema.sql")


@pytest.fixture
def db(db_schema: None, connect: Connect) -> psycopg.Connection:
    return connect()


@pytest.fixture(scope="module")
def producer(kafka_bootstrap: str) -> Iterator[KafkaProducer]:
    p = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True)
    yield p
    p.close()


class Stream:
    """One test's own topic and dead-letter topic, with the checkpoint the consumer resumes from."""

    def __init__(self, impl: ModuleType, conn: psycopg.Connection, producer: KafkaProducer,
                 bootstrap: str, topic: str, dlq_topic: str) -> None:
        self.impl, self.conn, self.producer, self.bootstrap = impl, conn, producer, bootstrap
        self.topic, self.dlq_topic = topic, dlq_topic
        self.checkpoint: dict[int, int] = {}

    def send(self, *messages: tuple[str, bytes]) -> None:
        """Publish (key, value) pairs in order; the key picks the partition, as in production."""
        for key, value in messages:
            self.producer.send(self.topic, key=key.encode(), value=value)
        self.producer.flush(timeout=10)

    def consume(self, count: int) -> list[str]:
        return list(self.impl.consume(self.conn, self.producer, self.bootstrap, self.topic,
                                      self.dlq_topic, self.checkpoint, count))

    def dead_letters(self, expected: int) -> list[tuple[bytes, dict[str, str]]]:
        """Everything in the DLQ: read until `expected` arrived and nothing more comes."""
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        tp = TopicPartition(self.dlq_topic, 0)
        consumer.assign([tp])
        consumer.seek(tp, 0)
        found: list[tuple[bytes, dict[str, str]]] = []
        deadline, quiet_since = time.monotonic() + 10, time.monotonic()
        try:
            while time.monotonic() < deadline:
                batch = consumer.poll(timeout_ms=100).get(tp, [])
                found += [(m.value, {k: v.decode() for k, v in m.headers}) for m in batch]
                if batch:
                    quiet_since = time.monotonic()
                elif len(found) >= expected and time.monotonic() - quiet_since > 0.3:
                    break
        finally:
            consumer.close()
        return found


@pytest.fixture(scope="module")
def admin(kafka_bootstrap: str) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    yield client
    client.close()


@pytest.fixture
def make_stream(impl: ModuleType, db: psycopg.Connection, producer: KafkaProducer,
                admin: KafkaAdminClient, kafka_bootstrap: str) -> Callable[[int], Stream]:
    def make(partitions: int = 1) -> Stream:
        name = f"lab3-activity-{uuid.uuid4().hex[:10]}"
        admin.create_topics([NewTopic(name, partitions, 1), NewTopic(name + ".dlq", 1, 1)])
        return Stream(impl, db, producer, kafka_bootstrap, name, name + ".dlq")
    return make


def event(account: str, amount: Any, version: Any = 1, event_id: str | None = None) -> bytes:
    return json.dumps({"version": version, "event_id": event_id or f"ev-{uuid.uuid4().hex}",
                       "account_id": account, "amount": amount}).encode()


def event_id(value: bytes) -> str:
    return str(json.loads(value)["event_id"])


def applied(db: psycopg.Connection, event: str) -> int:
    """How many times an event reached the read model."""
    return int(db.execute("SELECT count(*) FROM lab3_account_activity WHERE event_id = %s",
                          (event,)).fetchone()[0])


def marked(db: psycopg.Connection, event: str) -> int:
    return int(db.execute("SELECT count(*) FROM lab3_processed_events WHERE event_id = %s",
                          (event,)).fetchone()[0])


def new_account() -> str:
    return f"acct-{uuid.uuid4().hex[:12]}"


def test_each_event_applied_once_despite_redelivery(impl: ModuleType, db: psycopg.Connection,
                                                    make_stream: Callable[..., Stream]) -> None:
    """Each event is applied exactly once, even when every message is delivered three times."""
    stream = make_stream(partitions=2)
    accounts = [new_account() for _ in range(3)]
    events = [(a, event(a, 100 * (i + 1))) for i, a in enumerate(accounts * 2)]
    stream.send(*events, *events)  # a producer that retried every send: two copies each
    outcomes = stream.consume(len(events) * 2)
    assert outcomes.count(impl.APPLIED) == len(events), outcomes
    assert outcomes.count(impl.DUPLICATE) == len(events), outcomes
    stream.checkpoint.clear()  # and a consumer that lost its offsets: the third delivery
    assert set(stream.consume(len(events) * 2)) == {impl.DUPLICATE}
    for _, value in events:
        assert applied(db, event_id(value)) == 1, "every event must reach the read model once"
        assert marked(db, event_id(value)) == 1


def test_effect_and_marker_commit_together(impl: ModuleType, db: psycopg.Connection,
                                           make_stream: Callable[..., Stream],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The effect and the processed marker commit together: a crash after the effect but before
    the commit leaves neither, and the redelivered message is then applied once."""
    stream = make_stream()
    account = new_account()
    first, second = event(account, 500), event(account, 20)
    stream.send((account, first), (account, second))
    real_effect = impl.apply_effect

    def crash_after_the_effect(conn: psycopg.Connection, ev: Any) -> None:
        real_effect(conn, ev)
        raise RuntimeError("simulated crash after the effect, before the commit")

    monkeypatch.setattr(impl, "apply_effect", crash_after_the_effect)
    with pytest.raises(RuntimeError, match="simulated crash"):
        stream.consume(2)
    assert applied(db, event_id(first)) == 0, "a crashed attempt must leave no effect"
    assert marked(db, event_id(first)) == 0, "a crashed attempt must leave no processed marker"
    assert stream.checkpoint.get(0, 0) == 0, "a crash must not move the offset on"
    monkeypatch.setattr(impl, "apply_effect", real_effect)
    assert stream.consume(2) == [impl.APPLIED, impl.APPLIED]  # the crashed one, redelivered
    assert applied(db, event_id(first)) == 1 and marked(db, event_id(first)) == 1
    assert stream.dead_letters(0) == [], "a crash is not a reason to dead-letter"


def test_malformed_event_is_dead_lettered_and_consumer_moves_on(
        impl: ModuleType, db: psycopg.Connection, make_stream: Callable[..., Stream]) -> None:
    """A malformed event goes to the DLQ with its error and its original topic, partition and
    offset, and the consumer goes on with the next message."""
    stream = make_stream()
    account = new_account()
    good1, good2 = event(account, 100), event(account, 250)
    not_json, float_amount = b"{not json", event(account, 12.5)
    stream.send((account, good1), (account, not_json), (account, good2),
                (account, float_amount))
    assert stream.consume(4) == [impl.APPLIED, impl.DEAD_LETTERED, impl.APPLIED,
                                 impl.DEAD_LETTERED]
    assert applied(db, event_id(good2)) == 1, "the message after a bad one must be applied"
    assert applied(db, event_id(float_amount)) == 0
    letters = stream.dead_letters(2)
    assert [value for value, _ in letters] == [not_json, float_amount], \
        "the DLQ must hold the original messages, unchanged, in order"
    for (_, headers), offset in zip(letters, ("1", "3"), strict=True):
        assert headers.get("error"), "a dead letter must say what was wrong"
        assert (headers["original-topic"], headers["original-partition"],
                headers["original-offset"]) == (stream.topic, "0", offset)
    assert "JSON" in letters[0][1]["error"] or "InvalidEvent" in letters[0][1]["error"]


def test_unknown_version_is_dead_lettered_without_retry(
        impl: ModuleType, db: psycopg.Connection, make_stream: Callable[..., Stream]) -> None:
    """An event with an unknown schema version goes to the DLQ at once, after one attempt, and is
    never applied."""
    stream = make_stream()
    account = new_account()
    future, current = event(account, 900, version=2), event(account, 40)
    stream.send((account, future), (account, current))
    assert stream.consume(2) == [impl.DEAD_LETTERED, impl.APPLIED]
    assert applied(db, event_id(future)) == 0 and marked(db, event_id(future)) == 0
    [(value, headers)] = stream.dead_letters(1)
    assert value == future
    assert headers["attempts"] == "1", "retrying cannot teach this consumer a new version"
    assert "version" in headers["error"].lower()
    assert headers["original-offset"] == "0"


def test_transient_failure_is_retried_then_dead_lettered(
        impl: ModuleType, db: psycopg.Connection, make_stream: Callable[..., Stream],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A transient failure is retried, MAX_ATTEMPTS attempts in all at most; an event that still
    fails goes to the DLQ with its attempt count, and one that recovers is applied once."""
    attempts = impl.MAX_ATTEMPTS
    assert attempts >= 2
    stream = make_stream()
    account = new_account()
    flaky, broken, after = event(account, 100), event(account, 70), event(account, 30)
    stream.send((account, flaky), (account, broken), (account, after))
    calls: dict[str, int] = {}
    real_effect = impl.apply_effect

    def unreliable_effect(conn: psycopg.Connection, ev: Any) -> None:
        calls[ev.event_id] = calls.get(ev.event_id, 0) + 1
        if ev.event_id == event_id(broken) or (ev.event_id == event_id(flaky)
                                               and calls[ev.event_id] < attempts):
            raise impl.TransientError("read model unavailable")
        real_effect(conn, ev)

    monkeypatch.setattr(impl, "apply_effect", unreliable_effect)
    assert stream.consume(3) == [impl.APPLIED, impl.DEAD_LETTERED, impl.APPLIED]
    assert calls[event_id(flaky)] == attempts, "a recovering event succeeds on its last attempt"
    assert calls[event_id(broken)] == attempts, f"exactly {attempts} attempts, then the DLQ"
    assert applied(db, event_id(flaky)) == 1 and applied(db, event_id(broken)) == 0
    assert marked(db, event_id(broken)) == 0, "a failed attempt must not leave its marker"
    [(value, headers)] = stream.dead_letters(1)
    assert value == broken
    assert headers["attempts"] == str(attempts) and headers["original-offset"] == "1"
    assert "unavailable" in headers["error"] or "TransientError" in headers["error"]


def test_read_model_total_matches_valid_events(impl: ModuleType, db: psycopg.Connection,
                                               make_stream: Callable[..., Stream]) -> None:
    """The read model's total equals the sum of the valid events' amounts, in a stream that mixes
    duplicates, malformed events and unknown versions."""
    stream = make_stream(partitions=2)
    accounts = [new_account() for _ in range(4)]
    valid = [(a, event(a, amount)) for a, amount in zip(accounts * 3, [
        1250, -300, 999, 40, -75, 10_000, 1, 612, -5, 300, 77, 45], strict=True)]
    invalid = [(accounts[0], b""), (accounts[1], event(accounts[1], True)),
               (accounts[2], event(accounts[2], 500, version="1")),
               (accounts[3], event(accounts[3], 0))]
    stream.send(*valid, *invalid, *valid[::2])
    outcomes = stream.consume(len(valid) + len(invalid) + len(valid[::2]))
    assert outcomes.count(impl.APPLIED) == len(valid)
    assert outcomes.count(impl.DEAD_LETTERED) == len(invalid)
    expected = sum(json.loads(value)["amount"] for _, value in valid)
    total = db.execute("SELECT coalesce(sum(amount), 0), count(*) FROM lab3_account_activity"
                       " WHERE account_id = ANY(%s)", (accounts,)).fetchone()
    assert tuple(total) == (expected, len(valid))
    assert len(stream.dead_letters(len(invalid))) == len(invalid)
