"""Look at the topics with a Kafka client of our own (`fcl events topics`, `... tail`):
kcat 1.7.1 (librdkafka 2.0.2) cannot talk to the embedded broker (`ApiVersionRequest failed:
Read underflow`), kafka-python can.

What is shown, and how far to trust it:
- partitions and their leader come from the broker's metadata: exact;
- beginning and end offsets are what the broker *reports*. On the embedded broker the end
  offset is wrong when producers batch (the relay does), so it is shown as reported, labelled,
  and never used for progress: the consumers' positions come from PostgreSQL
  (consumer_partitions), and `tail --last` reads the partition to its real end instead;
- `tail` reads records with no consumer group (assign + seek): it changes nothing on the broker
  and no consumer's position. Per key it flags a record whose outbox seq is below one seen
  before for that key (a republished duplicate, or a real reordering).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition
from pydantic import ValidationError

from fintech_core.events.contracts import Envelope


@dataclass(frozen=True)
class PartitionInfo:
    partition: int
    leader: int | None
    reported_beginning: int
    reported_end: int  # as reported: wrong on the embedded broker when producers batch


@dataclass(frozen=True)
class TopicInfo:
    name: str
    exists: bool
    partitions: list[PartitionInfo]


@dataclass(frozen=True)
class Message:
    partition: int
    offset: int
    timestamp_ms: int
    key: str | None
    headers: dict[str, str]
    event_id: str | None  # from the envelope; None when the value is not an event
    event_type: str | None
    outbox_seq: int | None
    behind_earlier_of_key: bool  # outbox seq below one already seen for this key


def _client(bootstrap: str) -> KafkaConsumer:
    return KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                         request_timeout_ms=7000, allow_auto_create_topics=False,
                         fetch_max_wait_ms=100)


def describe(bootstrap: str, names: list[str]) -> list[TopicInfo]:
    client = _client(bootstrap)
    try:
        out = []
        for name in names:
            ids = sorted(client.partitions_for_topic(name) or ())
            if not ids:
                out.append(TopicInfo(name, False, []))
                continue
            tps = [TopicPartition(name, p) for p in ids]
            begin, end = client.beginning_offsets(tps), client.end_offsets(tps)
            cluster = client._client.cluster  # metadata already fetched for the topic
            out.append(TopicInfo(name, True, [
                PartitionInfo(tp.partition, cluster.leader_for_partition(tp), begin[tp], end[tp])
                for tp in tps]))
        return out
    finally:
        client.close()


def list_topics(bootstrap: str) -> list[str]:
    client = _client(bootstrap)
    try:
        return sorted(client.topics())
    finally:
        client.close()


def _message(record: object, last_seq: dict[str | None, int]) -> Message:
    r = record  # a kafka ConsumerRecord
    headers = {k: (v or b"").decode(errors="replace") for k, v in (r.headers or [])}  # type: ignore[attr-defined]
    key = None if r.key is None else r.key.decode(errors="replace")  # type: ignore[attr-defined]
    try:
        env: Envelope | None = Envelope.model_validate_json(r.value)  # type: ignore[attr-defined]
    except ValidationError:
        env = None
    seq = env.outbox_seq if env else None
    behind = seq is not None and seq < last_seq.get(key, 0)
    if seq is not None:
        last_seq[key] = max(seq, last_seq.get(key, 0))
    return Message(r.partition, r.offset, r.timestamp, key, headers,  # type: ignore[attr-defined]
                   str(env.event_id) if env else headers.get("event_id"),
                   env.event_type if env else headers.get("event_type"), seq, behind)


def tail(bootstrap: str, topic: str, *, limit: int = 20, timeout: float = 5.0,
         last: bool = False, partition: int | None = None, key: str | None = None
         ) -> list[Message]:
    """Read `topic` from the beginning, in offset order per partition. Returns the first `limit`
    messages, or with `last` the last `limit` before the topic goes quiet. Never waits more
    than `timeout` seconds, and stops after 1 s without a new record."""
    client = _client(bootstrap)
    try:
        ids = sorted(client.partitions_for_topic(topic) or ())
        tps = [TopicPartition(topic, p) for p in ids if partition in (None, p)]
        if not tps:
            return []
        client.assign(tps)
        client.seek_to_beginning(*tps)
        kept: deque[Message] = deque(maxlen=limit if last else None)
        last_seq: dict[str | None, int] = {}
        deadline = time.monotonic() + timeout
        quiet_since = None
        while time.monotonic() < deadline and (last or len(kept) < limit):
            batch = client.poll(timeout_ms=200)
            if not batch:
                quiet_since = quiet_since or time.monotonic()
                if kept and time.monotonic() - quiet_since > 1.0:
                    break
                continue
            quiet_since = None
            for records in batch.values():
                for record in records:
                    m = _message(record, last_seq)
                    if key is None or m.key == key:
                        kept.append(m)
        return list(kept)[:limit]
    finally:
        client.close()
