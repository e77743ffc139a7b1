"""`./fcl events broker-storage`: the embedded broker with memory storage vs s3 storage (on the
embedded SeaweedFS), measured in one run on the lab's real processes. Each storage gets a lab of
its own (temporary directory, free ports): PostgreSQL, Redis, the broker (and for s3 the object
store), the phase's API, relay and consumer processes, exactly as `make up` runs them with
FINCORE_BROKER_STORAGE set. Figures: cold start of the broker (and store), produce throughput and
one acked send with the relay's producer, commit-to-consume lag of transfers posted through the
API, a broker restart (ready time, what survived, what the relay and consumers did), the end
offsets the broker reports against the records really there, and RSS. storage_facts.py judges.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from fintech_core.events import inspect_topics, ops
from fintech_core.events.bench_facts import lag_stats
from fintech_core.events.relay import make_producer
from fintech_core.events.storage_facts import end_offsets_correct, survived
from fintech_core.events.topics import Topics, ensure_topics, topics_for
from fintech_core.phase import Composition
from fintech_core.settings import Settings
from fintech_core.stack.broker import EmbeddedBroker
from fintech_core.stack.objectstore import EmbeddedObjectStore
from fintech_core.stack.processes import free_port, wait_until
from fintech_core.stack.session import LabSession, own_lab

Progress = Callable[[str], None]
PROBE_GROUP = "fincore-storage-probe"


def cold_start(storage: str) -> float:
    """Seconds from nothing to a broker answering metadata (the store first, for s3): what
    `make up` pays for the broker, in an empty directory."""
    lab_dir = Path(tempfile.mkdtemp(prefix="fincore-storage-"))
    store = EmbeddedObjectStore(lab_dir, free_port()) if storage == "s3" else None
    broker = EmbeddedBroker(lab_dir, free_port(), store=store)
    began = time.monotonic()
    try:
        if store is not None:
            store.start()
        broker.start()
        wait_until(lambda: broker.health().ok, 20)
        return time.monotonic() - began
    finally:
        broker.stop()
        if store is not None:
            store.stop()
        shutil.rmtree(lab_dir, ignore_errors=True)


def produce(bootstrap: str, topic: str, n: int, batch: int = 500
            ) -> tuple[dict[str, float], dict[str, Any]]:
    """n envelope-sized keyed records with the relay's producer, the way the relay sends them:
    `batch` at a time (its FINCORE_RELAY_BATCH_SIZE), flushed, every ack awaited; then 100
    sends one at a time, each waiting for its ack (a relay claim of one event)."""
    ensure_topics(bootstrap, Topics(events=topic, dlq=topic), 3, only=(topic,))
    producer = make_producer(bootstrap)
    value = b"x" * 450
    try:
        began = time.monotonic()
        for first in range(0, n, batch):
            futures = [producer.send(topic, key=str(i % 64).encode(), value=value)
                       for i in range(first, min(first + batch, n))]
            producer.flush(timeout=60)
            for f in futures:
                f.get(timeout=15)
        took = time.monotonic() - began
        single = []
        for i in range(100):
            t = time.monotonic()
            producer.send(topic, key=str(i).encode(), value=value).get(timeout=15)
            single.append((time.monotonic() - t) * 1000)
    finally:
        producer.close(timeout=5)
    return {"records": n, "seconds": round(took, 2), "per_second": n / took}, lag_stats(single)


def seed(http: httpx.Client) -> list[str]:
    ids = []
    for owner in ("storage-a", "storage-b", "storage-c", "storage-d"):
        r = http.post("/accounts", json={"owner": owner, "currency": "EUR"})
        r.raise_for_status()
        ids.append(r.json()["id"])
        http.post(f"/accounts/{ids[-1]}/deposits", json={"amount": 10_000_000, "currency": "EUR"},
                  headers={"Idempotency-Key": str(uuid.uuid4())}).raise_for_status()
    return ids


def transfers(http: httpx.Client, ids: list[str], n: int, rate: float) -> None:
    """n transfers of 1.00 EUR at `rate` per second, open loop on one client."""
    began = time.monotonic()
    for i in range(n):
        time.sleep(max(0.0, began + i / rate - time.monotonic()))
        body = {"source_account_id": ids[i % 4], "destination_account_id": ids[(i + 1) % 4],
                "amount": 100, "currency": "EUR"}
        http.post("/transfers", json=body,
                  headers={"Idempotency-Key": str(uuid.uuid4())}).raise_for_status()


def caught_up(db: str) -> bool:
    with psycopg.connect(db, autocommit=True) as conn:
        st = ops.status(conn)
    return st.unpublished == 0 and all(c.behind <= c.dead for c in st.consumers)


def window_lag(db: str, after_seq: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Commit -> consumed (every consumer's row), and commit -> marked published by the relay
    (after the broker's acks): the gap between the two is the consumers' fetch."""
    with psycopg.connect(db, autocommit=True) as conn:
        consumed = [r[0] for r in conn.execute(
            "SELECT extract(epoch FROM p.processed_at - o.created_at)::float8 * 1000 FROM outbox o"
            " JOIN processed_events p USING (event_id) WHERE o.seq > %s", (after_seq,))]
        published = [r[0] for r in conn.execute(
            "SELECT extract(epoch FROM published_at - created_at)::float8 * 1000 FROM outbox"
            " WHERE seq > %s", (after_seq,))]
    return lag_stats(consumed), lag_stats(published)


def topic_state(bootstrap: str, topic: str) -> dict[str, Any]:
    """The topic as the broker has it: its id, the end offsets it reports, and the records
    really there (read from the beginning, no group)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        found = [d for d in admin.describe_topics([topic]) if not d["error_code"]]
    finally:
        admin.close()
    if not found:
        return {"topic_exists": False, "topic_id": None, "records": 0, "reported": {},
                "per_partition": {}, "distinct_events": 0}
    (info,) = inspect_topics.describe(bootstrap, [topic])
    read = inspect_topics.tail(bootstrap, topic, limit=1_000_000, timeout=30)
    return {"topic_exists": True, "topic_id": str(found[0]["topic_id"]), "records": len(read),
            "reported": {p.partition: p.reported_end for p in info.partitions},
            "per_partition": dict(Counter(m.partition for m in read)),
            "distinct_events": len({m.event_id for m in read})}


def group_offset(bootstrap: str, topic: str, commit: int | None = None) -> int | None:
    """Commit (or read back) a broker-side group offset: not what our consumers use (their
    offsets live in PostgreSQL), but the broker's own durability of committed offsets."""
    tp = TopicPartition(topic, 0)
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=PROBE_GROUP, enable_auto_commit=False,
                      request_timeout_ms=7000)
    try:
        if commit is not None:
            c.assign([tp])
            c.commit({tp: OffsetAndMetadata(commit, "", -1)})
        return c.committed(tp)
    finally:
        c.close()


def rss_mb(*pids: int | None) -> float:
    return sum(psutil.Process(p).memory_info().rss for p in pids if p) / 2**20


def measure(composition: Composition, storage: str, n_transfers: int, rate: float,
            n_produce: int, progress: Progress, settings: Settings | None = None
            ) -> dict[str, Any]:
    """One storage end to end. By default on a lab of its own (own_lab: every server embedded in
    a temporary directory). `settings` instead: PostgreSQL and Redis the caller already runs (by
    URL, on a database prefix of its own), and a lab directory it owns, for the broker (and the
    object store) this run embeds, restarts and stops; the broker's storage is `storage`."""
    out: dict[str, Any] = {"storage": storage, "start_s": cold_start(storage)}
    progress(f"{storage}: cold start {out['start_s']:.2f} s; starting a lab")
    lab_dir: Path | None = None
    if settings is None:
        settings, lab_dir = own_lab(Settings(broker_storage=storage))  # type: ignore[arg-type]
    else:
        settings = settings.model_copy(update={"broker_storage": storage})
    try:
        with LabSession(composition, settings=settings) as s:
            boot, db = s.lab.kafka_bootstrap(), s.database_url
            topic = topics_for(settings.model_copy(update={"phase": composition.number})).events
            probe = topic + ".produce-probe"
            out["produce"], out["send_ms"] = produce(boot, probe, n_produce)
            batched = topic_state(boot, probe)  # the producer batched: many records a request
            out["probe_end_offsets_correct"] = end_offsets_correct(batched["reported"],
                                                                   batched["per_partition"])
            ids = seed(s.http)
            wait_until(lambda: caught_up(db), 60, 0.2)
            after = s.sql("SELECT coalesce(max(seq), 0) FROM outbox")[0][0]
            progress(f"{storage}: {n_transfers} transfers at {rate:g}/s through the API")
            transfers(s.http, ids, n_transfers, rate)
            if not wait_until(lambda: caught_up(db), 120, 0.2):
                raise RuntimeError(f"{storage}: the consumers did not catch up in 120 s")
            out["lag_ms"], out["publish_lag_ms"] = window_lag(db, after)  # type: ignore[arg-type]
            before = topic_state(boot, topic)
            out["end_offsets_correct"] = end_offsets_correct(before["reported"],
                                                             before["per_partition"])
            out["reported_end"], out["records_per_partition"] = (before["reported"],
                                                                 before["per_partition"])
            committed = group_offset(boot, topic, commit=3)
            out["restart"] = restart(s, boot, db, topic, committed, ids, n_transfers, rate,
                                     progress)
            store = s.lab.object_store
            out["rss_mb"] = rss_mb(s.lab.broker.pid.read() if s.lab.broker else None,
                                   store.pid.read() if store else None)
    finally:
        if lab_dir is not None:
            shutil.rmtree(lab_dir, ignore_errors=True)
    return out


def published(db: str) -> bool:
    with psycopg.connect(db, autocommit=True) as conn:
        return ops.status(conn).unpublished == 0


def restart(s: LabSession, boot: str, db: str, topic: str, committed: int | None,
            ids: list[str], n_transfers: int, rate: float, progress: Progress) -> dict[str, Any]:
    """With the consumers stopped, post transfers until the relay has published them (a backlog
    that exists on the broker only), restart the broker (the object store stays up), then start
    the consumers: what survived, what the relay re-queued, how long until every consumer
    caught up, and whether each event was still applied once."""
    s.workers["consume"].stop()
    backlog = max(10, n_transfers // 4)
    transfers(s.http, ids, backlog, rate)
    wait_until(lambda: published(db), 60, 0.1)
    before = topic_state(boot, topic)
    restarted_at = s.sql("SELECT clock_timestamp()")[0][0]
    s.stop_broker()
    began = time.monotonic()
    s.start_broker()
    wait_until(lambda: s.lab.broker is not None and s.lab.broker.health().ok, 20)
    ready = time.monotonic() - began
    progress(f"broker back in {ready:.2f} s")
    after = topic_state(boot, topic)
    try:
        kept: str = "kept" if group_offset(boot, topic) == committed else "lost"
    except Exception as exc:  # the broker may refuse the probe: report it, it is not our path
        kept = f"error ({type(exc).__name__})"
    s.workers["consume"].start()
    started = time.monotonic()
    drained = wait_until(lambda: caught_up(db), 120, 0.2)
    drain_s = time.monotonic() - started
    final = topic_state(boot, topic)
    (requeued,) = s.sql("SELECT count(*) FROM outbox WHERE publish_count > 1")[0]
    (reset,) = s.sql("SELECT count(*) FROM event_topics WHERE recorded_at > %s",
                     (restarted_at,))[0]
    (events,) = s.sql("SELECT count(*) FROM outbox")[0]
    per_consumer = {str(c): int(n) for c, n in  # type: ignore[call-overload]
                    s.sql("SELECT consumer, count(*) FROM processed_events GROUP BY 1")}
    with psycopg.connect(db, autocommit=True) as conn:
        verified = ops.verify(conn).ok
    return {"backlog": backlog, "ready_s": ready, "survived": survived(before, after),
            "group_offset": kept, "requeued": requeued, "offsets_reset": int(reset) > 0,  # type: ignore[call-overload]
            "drained": drained, "drain_s": drain_s, "records_after": final["records"],
            "events_after": final["distinct_events"],
            "applied_once": verified and set(per_consumer.values()) == {events}}
