"""Topic names and their explicit creation.

Topics are named after the phase database (`fincore_p2.transfers`), so two databases sharing one
broker (a notebook next to `make up`, parallel test suites) never read each other's events.
They are created with explicit partitions at relay start (consumers create only the DLQ), and
again whenever the relay finds them gone: the embedded broker keeps topics in memory, so a
restart loses them. It also recreates, by itself, a topic a client fetches from (seen: 4
partitions, with allow_auto_create_topics=False), so "who created it" tells nothing: the
topic's broker id does (see ensure_topics and relay.py).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from fintech_core.settings import Settings


@dataclass(frozen=True)
class Topics:
    events: str
    dlq: str


def topics_for(settings: Settings) -> Topics:
    db = settings.database_name()
    return Topics(events=f"{db}.transfers", dlq=f"{db}.dlq")


def ensure_topics(bootstrap: str, topics: Topics, partitions: int,
                  only: tuple[str, ...] | None = None) -> dict[str, str]:
    """Create the missing topics (all, or `only` these); return each one's broker topic id.

    The id names the topic's incarnation: after a restart of the memory broker the topic is
    new (and empty) whoever recreated it, including the broker itself when a consumer fetches
    from the missing topic. The relay compares it with the one recorded in PostgreSQL.
    """
    names = list(only or (topics.events, topics.dlq))
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        existing = set(admin.list_topics())
        for name in [t for t in names if t not in existing]:
            # Another relay or consumer may win the race: fine.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([NewTopic(name, partitions, 1)])
        return {d["name"]: str(d["topic_id"]) for d in admin.describe_topics(names)
                if not d["error_code"]}
    finally:
        admin.close()
