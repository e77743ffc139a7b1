"""Topic names and their explicit creation.

Topics are named after the phase database (`fincore_p2.transfers`), so two databases sharing one
broker (a notebook next to `make up`, parallel test suites) never read each other's events.
They are created with explicit partitions at relay and consumer start, and again whenever the
relay finds them gone: the embedded broker keeps topics in memory, so a restart loses them.
"""

from __future__ import annotations

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
                  only: tuple[str, ...] | None = None) -> list[str]:
    """Create the missing topics (all, or `only` these); return the names created (empty when
    all existed). Consumers create only the DLQ: whoever creates the events topic must reset
    the stored consumer offsets, which the relay does (see relay.py)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        existing = set(admin.list_topics())
        missing = [t for t in only or (topics.events, topics.dlq) if t not in existing]
        created = []
        for name in missing:
            try:
                admin.create_topics([NewTopic(name, partitions, 1)])
                created.append(name)
            except TopicAlreadyExistsError:
                pass  # another relay or consumer won the race: fine
        return created
    finally:
        admin.close()
