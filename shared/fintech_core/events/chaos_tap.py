"""A witness on the events topic for the chaos run: every record the broker hands out, counted.

The tap reads every partition of the events topic from the beginning, with no consumer group
(so it never rebalances and never disturbs the consumers), and counts records per event id. A
record whose event id it has already seen is a duplicate delivery: the broker hands it to each
consumer too, which must absorb it (their own crash-redeliveries come on top, uncounted here).

The broker-stop fault calls `lost()` while the broker is down: memory storage loses the topic,
so the tap starts again at offset 0 of the recreated topic. The tap's client is rebuilt then
(once the broker listens again: a client built against a dead broker backs off for tens of
seconds), never on a transient error, which would re-read from a stale position and count
phantom duplicates: the kafka client retries those itself.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

from kafka import KafkaConsumer, TopicPartition

from fintech_core.stack.processes import port_open

log = logging.getLogger("fincore.chaos.tap")
POISON_HEADER = "chaos-poison"


class Tap:
    def __init__(self, bootstrap: str, topic: str, partitions: int) -> None:
        self.bootstrap, self.topic, self.partitions = bootstrap, topic, partitions
        self.seen: Counter[str] = Counter()  # event id -> records delivered with it
        self.poison = 0  # injected poison records delivered
        self.other = 0  # records naming no event id (should stay 0)
        self._lost, self._stop = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-tap", daemon=True)

    def start(self) -> Tap:
        kafka_log = logging.getLogger("kafka")
        if not any(isinstance(h, logging.NullHandler) for h in kafka_log.handlers):
            # The outage makes the client log errors; without a handler anywhere they would go
            # to stderr (logging's last resort) all over the chaos command's console.
            kafka_log.addHandler(logging.NullHandler())
        self._thread.start()
        return self

    def lost(self) -> None:
        self._lost.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    @property
    def records(self) -> int:
        return sum(self.seen.values())

    @property
    def duplicates(self) -> int:
        return self.records - len(self.seen)

    def _client(self) -> KafkaConsumer:
        host, port = self.bootstrap.rsplit(":", 1)
        if not port_open(host, int(port)):
            raise ConnectionError("the broker is not listening")
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None,
                                 enable_auto_commit=False, auto_offset_reset="earliest",
                                 fetch_max_wait_ms=50, request_timeout_ms=7000,
                                 reconnect_backoff_max_ms=500)
        parts = [TopicPartition(self.topic, p) for p in range(self.partitions)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        return consumer

    def _count(self, headers: list[tuple[str, bytes]] | None) -> None:
        h = {k: (v or b"").decode(errors="replace") for k, v in headers or []}
        if POISON_HEADER in h:
            self.poison += 1
        elif "event_id" in h:
            self.seen[h["event_id"]] += 1
        else:
            self.other += 1

    def _run(self) -> None:
        consumer: KafkaConsumer | None = None
        while not self._stop.is_set():
            try:
                if self._lost.is_set() and consumer is not None:
                    consumer.close()
                    consumer = None
                self._lost.clear()
                consumer = consumer or self._client()
                for records in consumer.poll(timeout_ms=200).values():
                    for r in records:
                        self._count(r.headers)
            except Exception as exc:  # the broker is down (or starting): wait, keep position
                log.debug("tap: %s", exc)
                self._stop.wait(0.5)
        if consumer is not None:
            consumer.close()
