"""`fcl events topics` / `tail` against the real broker: what the relay published, read back
with no consumer group (event ids, keys, headers, per-key order, republished duplicates
flagged), bounded by --limit and --timeout."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import psycopg
import pytest

from fintech_core.events import ops
from fintech_core.events.inspect_topics import describe, tail
from fintech_core.events.topics import topics_for
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import wait_until
from phases import composition
from tests.integration.events_support import EventsDb, running
from tests.integration.ledger_client import LedgerClient
from tests.integration.test_events_delivery import traffic

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def published(db: EventsDb) -> bool:
    return db.sql("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0] == 0


def fincore(db: EventsDb, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", composition(2).entrypoints.cli_module,
                           "events", *args], env={**Lab(db.settings).env(phase=2),
                                                  "COLUMNS": "250"},  # no wrapped names
                          capture_output=True, text=True, timeout=120)


async def test_tail_shows_every_event_with_its_key_headers_and_order(
        client: LedgerClient, db: EventsDb) -> None:
    await traffic(client, 12, accounts=3)
    with running(db, consumers=False):  # the relay alone: nothing consumes
        assert wait_until(lambda: published(db), 30, 0.1)
    bootstrap, t = db.settings.kafka_bootstrap or "", topics_for(db.settings)
    outbox = {str(r[0]): r for r in db.sql(
        "SELECT event_id, seq, aggregate_id, event_type, headers FROM outbox")}

    msgs = tail(bootstrap, t.events, limit=1000, timeout=15)
    assert sorted(m.event_id or "" for m in msgs) == sorted(outbox)
    for m in msgs:
        _, seq, aggregate, event_type, headers = outbox[m.event_id or ""]
        assert (m.key, m.outbox_seq, m.event_type) == (str(aggregate), seq, event_type)
        assert m.headers["correlation_id"] == headers["correlation_id"]
        assert m.headers["event_id"] == m.event_id and m.headers["event_type"] == event_type
        assert not m.behind_earlier_of_key  # published once, in commit order per key
    assert len(tail(bootstrap, t.events, limit=5, timeout=15)) == 5
    assert len(tail(bootstrap, t.events, limit=3, timeout=15, last=True)) == 3

    info = {i.name: i for i in describe(bootstrap, [t.events, t.dlq, f"{t.events}.nope"])}
    assert [p.partition for p in info[t.events].partitions] == [0, 1, 2]
    assert not info[f"{t.events}.nope"].exists
    real = {p: sum(m.partition == p for m in msgs) for p in range(3)}
    print("\nreported end offsets", {p.partition: p.reported_end
                                     for p in info[t.events].partitions}, "records", real)

    # Republished (the relay sends seq 1..3 again): each copy comes after later events of its
    # key, and is flagged.
    with psycopg.connect(db.url, autocommit=True) as conn:
        assert ops.replay(conn, 1, 3) == 3
    with running(db, consumers=False):
        assert wait_until(lambda: published(db), 30, 0.1)
    again = tail(bootstrap, t.events, limit=1000, timeout=15)
    assert len(again) == len(outbox) + 3
    assert sorted(m.outbox_seq or 0 for m in again if m.behind_earlier_of_key) == [1, 2, 3]

    started = time.monotonic()  # an empty topic: bounded by the timeout, not forever
    assert tail(bootstrap, t.dlq, limit=10, timeout=1.5) == []
    assert time.monotonic() - started < 5


async def test_the_cli_describes_and_tails(client: LedgerClient, db: EventsDb) -> None:
    await traffic(client, 4, accounts=2)
    with running(db):
        db.wait_caught_up()
    ids = {str(r[0]) for r in db.sql("SELECT event_id FROM outbox")}
    out = fincore(db, "tail", "--limit", "3", "--timeout", "10", "--json")
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == 3 and all(m["event_id"] in ids for m in lines)
    topics = fincore(db, "topics")
    assert topics.returncode == 0, topics.stderr
    t = topics_for(db.settings)
    assert t.events in topics.stdout and t.dlq in topics.stdout
    # Where each consumer resumes comes from PostgreSQL: both consumers appear per partition.
    assert topics.stdout.count("activity") >= 3 and "Reported end offsets are wrong" in \
        topics.stdout.replace("\n", " ")
