"""Relay and consumers on the real broker: each event applied once although delivered three
times, per-account order, a relay killed between publish and mark, a broker restarted mid-burst
(a broker of the test's own), poison messages to the DLQ and back once fixed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import psycopg
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from fintech_core.events import ops
from fintech_core.events.consumer import Outcome
from fintech_core.events.topics import ensure_topics, topics_for
from fintech_core.stack.broker import EmbeddedBroker
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port, wait_until
from fintech_core.stack.workers import Worker
from phases import composition
from tests.integration.events_support import EventsDb, running
from tests.integration.ledger_client import LedgerClient

pytestmark = [pytest.mark.integration, pytest.mark.anyio]



async def traffic(client: LedgerClient, n: int, accounts: int = 4) -> None:
    ids = [await client.open(f"o{i}", funded=1_000_000) for i in range(accounts)]
    for i in range(n):
        await client.move(ids[i % accounts], ids[(i + 1) % accounts], 1 + i % 7)


def assert_once_each(db: EventsDb) -> None:
    total = db.sql("SELECT count(*) FROM outbox")[0][0]
    for consumer in ("activity", "audit"):
        assert db.sql("SELECT count(*) FROM processed_events WHERE consumer = %s",
                      (consumer,))[0][0] == total
    assert db.sql("SELECT count(*) FROM audit_trail")[0][0] == total
    v = db.verify()
    assert v.ok, v


async def test_three_deliveries_apply_once_and_keep_order_per_account(
        client: LedgerClient, db: EventsDb) -> None:
    await traffic(client, 40)
    with running(db) as w:
        db.wait_caught_up()
        last = db.sql("SELECT max(seq) FROM outbox")[0][0]
        for round_ in (2, 3):  # the whole range published again, twice: 3 deliveries each
            with psycopg.connect(db.url, autocommit=True) as conn:
                assert ops.replay(conn, 1, last) == last
            assert wait_until(lambda r=round_: db.sql(
                "SELECT min(publish_count) FROM outbox")[0][0] == r, 60, 0.2)
            db.wait_caught_up()
        assert wait_until(lambda: all(c.counts[Outcome.DUPLICATE] >= 2 * last
                                      for c in w.consumers), 60, 0.2)
        assert all(c.counts[Outcome.APPLIED] == last for c in w.consumers)
    assert_once_each(db)
    # Per account (the key), events were applied in commit (seq) order.
    for consumer in ("activity", "audit"):
        rows = db.sql("SELECT o.aggregate_id, o.seq FROM processed_events p JOIN outbox o"
                      " USING (event_id) WHERE p.consumer = %s ORDER BY p.processed_at",
                      (consumer,))
        seen: dict[object, int] = {}
        for aggregate, seq in rows:
            assert seq > seen.get(aggregate, 0), (consumer, aggregate)
            seen[aggregate] = seq


async def test_a_relay_killed_after_publish_before_mark_duplicates_and_loses_nothing(
        client: LedgerClient, db: EventsDb, lab: Lab) -> None:
    await traffic(client, 10)
    relay = next(w for w in composition(2).workers if w.name == "relay")
    crashing = Worker(lab.settings.lab_dir, relay, composition(2).entrypoints.cli_module,
                      Lab(db.settings).env(phase=2, relay_crash_after_publish=True),
                      tag=f"crash-{db.settings.database_prefix}")
    crashing.start()
    assert wait_until(lambda: crashing.running_pid() is None, 60, 0.2)
    assert "exiting after publishing" in crashing.log.read_text()
    # On the broker, not marked in the outbox: the relay died between the two.
    assert db.sql("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0] > 0
    with running(db) as w:  # a healthy relay publishes the same rows again
        db.wait_caught_up()
        assert wait_until(lambda: sum(c.counts[Outcome.DUPLICATE] for c in w.consumers) > 0,
                          30, 0.2)
    assert_once_each(db)


async def test_broker_restart_during_a_burst_loses_nothing(
        client: LedgerClient, db: EventsDb, tmp_path: Path) -> None:
    broker = EmbeddedBroker(tmp_path, free_port())
    broker.start()
    try:
        ids = [await client.open(f"o{i}", funded=1_000_000) for i in range(4)]
        with running(db, bootstrap_servers=broker.url()):
            async def burst(n: int) -> None:
                for i in range(n):
                    await client.move(ids[i % 4], ids[(i + 1) % 4], 1 + i % 5)

            first = asyncio.create_task(burst(60))
            await asyncio.sleep(1.0)
            await asyncio.to_thread(broker.stop)  # memory storage: topics and offsets are gone
            await first
            await burst(30)  # transfers continue while the broker is down: backlog grows
            assert db.sql("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0] > 0
            await asyncio.to_thread(broker.start)
            await asyncio.to_thread(db.wait_caught_up, 120)
        assert_once_each(db)
    finally:
        broker.stop()


def _publish_raw(db: EventsDb, value: bytes, event_type: str) -> None:
    producer = KafkaProducer(bootstrap_servers=db.settings.kafka_bootstrap, acks="all")
    producer.send(topics_for(db.settings).events, key=b"poison", value=value,
                  headers=[("event_type", event_type.encode())]).get(timeout=15)
    producer.close()


async def test_poison_messages_go_to_the_dlq_and_back_once_fixed(
        client: LedgerClient, db: EventsDb) -> None:
    s = db.settings
    ensure_topics(s.kafka_bootstrap or "", topics_for(s), s.event_partitions)
    db.sql("ALTER TABLE audit_trail ADD CONSTRAINT drill_broken CHECK (false) NOT VALID")
    await traffic(client, 3, accounts=2)
    _publish_raw(db, b"{not json", "?")
    unknown = {"event_id": "01a1ffde-0000-7000-8000-000000000001", "event_type":
               "transfer.completed.v9", "aggregate_type": "account", "aggregate_id":
               "01a1ffde-0000-7000-8000-000000000002", "occurred_at": "2026-01-01T00:00:00Z",
               "payload": {}}
    _publish_raw(db, json.dumps(unknown).encode(), "transfer.completed.v9")
    with running(db) as w:
        n = db.sql("SELECT count(*) FROM outbox")[0][0]
        assert wait_until(lambda: db.sql(
            "SELECT count(*) FROM dead_letters WHERE consumer = 'audit'")[0][0] == n + 2, 60, 0.2)
        assert wait_until(lambda: db.sql("SELECT count(*) FROM processed_events WHERE consumer"
                                         " = 'activity'")[0][0] == n, 60, 0.2)
        assert all(c.counts[Outcome.DEAD] >= 2 for c in w.consumers)  # and they moved on
    rows = {(r[1], r[3]): r for r in db.sql(
        "SELECT id, consumer, attempts, coalesce(event_type, 'malformed'), error, topic,"
        " kafka_offset FROM dead_letters")}
    assert rows[("audit", "transfer.completed.v1")][2] == 3  # transient: retried, then DLQ
    assert rows[("audit", "transfer.completed.v9")][2] == 1  # unknown version: at once
    assert rows[("activity", "malformed")][2] == 1
    assert "drill_broken" in rows[("audit", "transfer.completed.v1")][4]
    # The DLQ topic holds them too, with the error metadata in headers.
    dlq = KafkaConsumer(bootstrap_servers=s.kafka_bootstrap, consumer_timeout_ms=3000)
    parts = [TopicPartition(topics_for(s).dlq, p) for p in range(s.event_partitions)]
    dlq.assign(parts)
    dlq.seek_to_beginning(*parts)
    headers = [dict(m.headers) for m in dlq]
    dlq.close()
    assert len(headers) == n + 2 + 2 and all("dlq.error" in h for h in headers)
    # Fixed: the constraint is gone. Replay brings the audit trail up to date, once.
    db.sql("ALTER TABLE audit_trail DROP CONSTRAINT drill_broken")
    with psycopg.connect(db.url, autocommit=True) as conn:
        outcome = ops.replay_dead_letters(conn, "audit")
        again = ops.replay_dead_letters(conn, "audit")
    assert outcome == {"applied": n, "duplicate": 0, "dead-lettered": 2}
    assert again == {"applied": 0, "duplicate": 0, "dead-lettered": 2}  # still poison
    assert db.sql("SELECT count(*) FROM audit_trail")[0][0] == n
    assert db.verify().ok
