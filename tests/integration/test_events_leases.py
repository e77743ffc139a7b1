"""Partition leases and offsets in PostgreSQL, on the real broker and database: a SIGKILLed
process's partitions are taken over once its lease expires, a new process gets its share, a
restart resumes exactly at the stored offsets, a lost lease fences its holder off, and
duplicates are still applied once."""

from __future__ import annotations

import time

import psycopg
import pytest

from fintech_core.events import ops
from fintech_core.events.consumer import Outcome
from fintech_core.events.leases import LeaseLost, Leases, new_incarnation, reset_topic
from fintech_core.events.topics import topics_for
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import wait_until
from tests.integration.events_support import EventsDb, running
from tests.integration.ledger_client import LedgerClient
from tests.integration.test_events_consumer_churn import consume_workers, sigkill
from tests.integration.test_events_delivery import assert_once_each, traffic

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

LEASE = 3.0


def owners(db: EventsDb, consumer: str) -> dict[int, str | None]:
    return dict(db.sql("SELECT kafka_partition, owner FROM consumer_partitions WHERE consumer"
                       " = %s AND (lease_expires_at IS NULL OR lease_expires_at > now())",
                       (consumer,)))


def pid(owner: str | None) -> int | None:
    """Owner ids are host:pid:random (one per consumer of a process)."""
    return None if owner is None else int(owner.split(":")[1])


def offsets(db: EventsDb, consumer: str) -> dict[int, int]:
    return dict(db.sql("SELECT kafka_partition, next_offset FROM consumer_partitions"
                       " WHERE consumer = %s", (consumer,)))


async def test_a_new_process_gets_a_share_and_a_killed_ones_partitions_are_taken_over(
        client: LedgerClient, db: EventsDb, lab: Lab) -> None:
    await traffic(client, 30)
    first, second = consume_workers(db, lab, 2, consumer_lease_seconds=LEASE)
    with running(db, consumers=False):
        try:
            first.start()
            assert wait_until(lambda: len(set(owners(db, "audit").values()) - {None}) == 1
                              and len(owners(db, "audit")) == 3, 30, 0.1)
            db.wait_caught_up()
            second.start()  # ceil(3 / 2): the first gives one partition back, the second takes it
            assert wait_until(lambda: sorted(
                list(owners(db, "audit").values()).count(o)
                for o in set(owners(db, "audit").values())) == [1, 2], 30, 0.1), owners(db,
                                                                                         "audit")
            await traffic(client, 30)
            db.wait_caught_up()
            survivor = second.running_pid()
            assert sigkill(first)
            killed = time.monotonic()
            await traffic(client, 30)
            # No goodbye from a SIGKILLed process: its partitions wait out the lease, then the
            # survivor claims them and resumes at their stored offsets.
            assert wait_until(lambda: {pid(o) for c in ("audit", "activity")
                                       for o in owners(db, c).values()} == {survivor}, 30, 0.1)
            took = time.monotonic() - killed
            db.wait_caught_up()
            print(f"\ntakeover after SIGKILL: {took:.1f} s (lease {LEASE} s)")
            assert took < LEASE + 5
        finally:
            first.stop()
            second.stop()
    assert_once_each(db)
    # A graceful stop gives the partitions back at once.
    assert db.sql("SELECT count(*) FROM consumer_partitions WHERE owner IS NOT NULL")[0][0] == 0


async def test_a_restart_resumes_exactly_at_the_stored_offsets(
        client: LedgerClient, db: EventsDb) -> None:
    await traffic(client, 40)
    (first,) = db.sql("SELECT count(*) FROM outbox")[0]
    with running(db) as w:
        db.wait_caught_up()
        assert all(c.counts[Outcome.APPLIED] == first for c in w.consumers)
    for consumer in ("activity", "audit"):
        # Each stored offset is one past the last record applied from that partition, and the
        # topic holds exactly those events (published once each): nothing skipped, nothing owed.
        stored = offsets(db, consumer)
        applied = dict(db.sql("SELECT kafka_partition, max(kafka_offset) + 1 FROM"
                              " processed_events WHERE consumer = %s GROUP BY 1", (consumer,)))
        assert stored == {p: applied.get(p, 0) for p in range(3)}
        assert sum(stored.values()) == first
    await traffic(client, 20)
    with running(db) as w:
        db.wait_caught_up()
        # Nothing applied before the restart was delivered again.
        more = db.sql("SELECT count(*) FROM outbox")[0][0] - first
        assert all(c.counts == {Outcome.APPLIED: more, Outcome.DUPLICATE: 0, Outcome.DEAD: 0}
                   for c in w.consumers), [c.counts for c in w.consumers]
        last = db.sql("SELECT max(seq) FROM outbox")[0][0]
        with psycopg.connect(db.url, autocommit=True) as conn:
            assert ops.replay(conn, 1, last) == last  # every event published a second time
        assert wait_until(lambda: all(c.counts[Outcome.DUPLICATE] == last
                                      for c in w.consumers), 60, 0.2)
        assert all(c.counts[Outcome.APPLIED] == more for c in w.consumers)
    assert_once_each(db)


def test_a_lost_lease_fences_its_holder_off(db: EventsDb) -> None:
    topic = topics_for(db.settings).events
    with psycopg.connect(db.url, autocommit=True) as conn:
        a = Leases("audit", topic, seconds=0.5)
        b = Leases("audit", topic, seconds=0.5)
        assert a.tick(conn, 3) and set(a.owned) == {0, 1, 2}
        with conn.transaction():
            a.advance(conn, 1, 7)
        assert not b.tick(conn, 3) and not b.owned  # all leased: nothing to claim
        time.sleep(0.7)  # a stops renewing (paused, or killed): its leases expire
        assert b.tick(conn, 3) and set(b.owned) == {0, 1, 2}
        assert b.owned[1].next_offset == 7  # the new owner resumes where a committed
        with pytest.raises(LeaseLost), conn.transaction():
            conn.execute("INSERT INTO audit_trail (event_id, event_type, aggregate_type,"
                         " aggregate_id, payload, occurred_at) VALUES (gen_random_uuid(), 'x',"
                         " 'y', gen_random_uuid(), '{}', now())")
            a.advance(conn, 1, 8)  # a's effect rolls back with its fence
        assert db.sql("SELECT count(*) FROM audit_trail")[0][0] == 0
        with conn.transaction():
            b.advance(conn, 1, 8)
        # The relay recreated the topic: every position restarts at 0, every lease is revoked.
        with conn.transaction():
            assert reset_topic(conn, topic) == 3
        with pytest.raises(LeaseLost), conn.transaction():
            b.advance(conn, 1, 9)
        assert b.tick(conn, 3) and b.owned[1].next_offset == 0
        with conn.transaction():
            b.advance(conn, 1, 5)
        b.committed(1, 5)
        # The relay records the topic's broker id: the first one and a repeat reset nothing, a
        # new one (the topic was recreated, by whoever) resets every position.
        assert not new_incarnation(conn, topic, "id-1")
        assert not new_incarnation(conn, topic, "id-1")
        assert offsets(db, "audit")[1] == 5
        assert new_incarnation(conn, topic, "id-2")
        assert offsets(db, "audit") == {0: 0, 1: 0, 2: 0}
        # The topic came back with fewer partitions (recreated by the broker): leases follow.
        assert b.tick(conn, 2) and set(b.owned) == {0, 1}
