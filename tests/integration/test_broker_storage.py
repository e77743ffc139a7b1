"""FINCORE_BROKER_STORAGE=s3 on the real processes: the lab starts the object store before the
broker, reports both, keeps a topic (same id, same records) across a broker restart, and stops
everything it started."""

from __future__ import annotations

from pathlib import Path

import pytest

from fintech_core.events.inspect_topics import tail
from fintech_core.events.relay import make_producer
from fintech_core.events.topics import Topics, ensure_topics
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from fintech_core.stack.objectstore import BUCKET, EmbeddedObjectStore, check
from fintech_core.stack.processes import free_port, port_open

pytestmark = pytest.mark.integration


def test_s3_storage_keeps_the_topic_across_a_broker_restart(server_dir: Path) -> None:
    settings = Settings(lab_dir=server_dir / "lab", pg_port=free_port(), redis_port=free_port(),
                        broker_port=free_port(), object_store_port=free_port(),
                        broker_storage="s3", database_url="postgresql://unused@127.0.0.1:1/x",
                        redis_url="redis://127.0.0.1:1/0")
    lab = Lab(settings)
    assert [c.name for c in lab.embedded()] == ["object-store", "broker"]
    try:
        lab.start_servers()
        store, broker = lab.status()[2:]
        assert store.ok and store.detail == f"S3, bucket {BUCKET}", store
        assert broker.ok and f"storage s3 at {lab.object_store.url()}" in broker.detail  # type: ignore[union-attr]
        boot = lab.kafka_bootstrap()
        topics = Topics("storage.events", "storage.dlq")
        first_id = ensure_topics(boot, topics, 3)[topics.events]
        producer = make_producer(boot)
        for i in range(30):
            producer.send(topics.events, key=str(i % 5).encode(), value=b'{"n": %d}' % i)
        producer.flush(timeout=15)
        producer.close()
        assert lab.broker is not None
        lab.broker.stop()
        assert not port_open("127.0.0.1", settings.broker_port)
        lab.broker.start()
        assert ensure_topics(boot, topics, 3)[topics.events] == first_id  # same incarnation
        assert len(tail(boot, topics.events, limit=100, timeout=15)) == 30
    finally:
        lab.down()
    assert not port_open("127.0.0.1", settings.broker_port)
    assert not port_open("127.0.0.1", settings.object_store_port)


def test_the_store_refuses_unknown_credentials(server_dir: Path) -> None:
    from fintech_core.stack.s3sign import head_bucket

    store = EmbeddedObjectStore(server_dir, free_port())
    store.start()
    try:
        assert check(store.url()).ok
        assert head_bucket(store.url(), BUCKET, "fincore", "not-the-secret", "us-east-1") == 403
        assert head_bucket(store.url(), "no-such-bucket", "fincore", "fincore-lab-only",
                           "us-east-1") == 404
    finally:
        store.stop()
    assert not check(store.url()).ok
