"""What phase 2's chaos faults and hooks share: the session's broker and topics, the topic tap,
and the backlog read from PostgreSQL (never from broker offsets, wrong on the embedded broker)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import psycopg

from fintech_core.events.chaos_tap import POISON_HEADER, Tap
from fintech_core.events.registry import CONSUMER_NAMES
from fintech_core.events.topics import Topics, topics_for
from fintech_core.stack.processes import wait_until

if TYPE_CHECKING:
    from fintech_core.chaos.env import ChaosEnv
    from fintech_core.stack.session import LabSession

TAP = "events.tap"


def missing(env: ChaosEnv, workers: tuple[str, ...]) -> str | None:
    if env.session is None:
        return "no lab session: the run did not start the workers itself"
    absent = [w for w in workers if w not in env.session.workers]
    return f"the composition runs no {', '.join(absent)} worker" if absent else None


def session(env: ChaosEnv) -> LabSession:
    assert env.session is not None, "available() said no session"
    return env.session


def bootstrap(env: ChaosEnv) -> str:
    return session(env).lab.kafka_bootstrap()


def topics(env: ChaosEnv) -> Topics:
    s = session(env)
    return topics_for(s.lab.settings.model_copy(update={"phase": s.phase}))


def tap(env: ChaosEnv) -> Tap:
    """One tap per run, started by whichever event fault begins first."""
    if TAP not in env.measures:
        s = session(env)
        env.measures[TAP] = Tap(bootstrap(env), topics(env).events,
                                s.lab.settings.event_partitions).start()
    tapped: Tap = env.measures[TAP]
    return tapped


def close_tap(env: ChaosEnv) -> None:
    tapped = env.measures.get(TAP)
    if tapped is not None:
        tapped.stop()


def connect(env: ChaosEnv) -> psycopg.Connection:
    return psycopg.connect(env.database_url, autocommit=True, connect_timeout=10)


def last_seq(env: ChaosEnv) -> int:
    with connect(env) as conn:
        row = conn.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()
    return int(row[0]) if row else 0


# Outbox rows up to a seq that are unpublished, or that some consumer has not processed. The
# NOT EXISTS per consumer is a primary-key lookup in processed_events.
BACKLOG_SQL = (
    "SELECT count(*) FROM outbox o WHERE o.seq <= %(upto)s AND (o.published_at IS NULL OR"
    " EXISTS (SELECT 1 FROM unnest(%(consumers)s::text[]) c(name) WHERE NOT EXISTS"
    "  (SELECT 1 FROM processed_events p WHERE p.consumer = c.name"
    "   AND p.event_id = o.event_id)))")


def backlog(conn: psycopg.Connection, upto: int) -> int:
    row = conn.execute(BACKLOG_SQL, {"upto": upto, "consumers": list(CONSUMER_NAMES)}).fetchone()
    return int(row[0]) if row else 0


def wait_drained(env: ChaosEnv, upto: int, bound_s: float) -> bool:
    with connect(env) as conn:
        return wait_until(lambda: backlog(conn, upto) == 0, bound_s, 0.25)


def wait_published(env: ChaosEnv, upto: int, timeout: float) -> bool:
    with connect(env) as conn:
        def left() -> int:
            row = conn.execute("SELECT count(*) FROM outbox WHERE seq <= %s AND published_at"
                               " IS NULL", (upto,)).fetchone()
            return int(row[0]) if row else 0

        return wait_until(lambda: left() == 0, timeout, 0.01)


def wait_applying(env: ChaosEnv, timeout: float) -> bool:
    """True once consumers commit effects (the count of processed events moves)."""
    with connect(env) as conn:
        def count() -> int:
            row = conn.execute("SELECT count(*) FROM processed_events").fetchone()
            return int(row[0]) if row else 0

        first = count()
        return wait_until(lambda: count() > first, timeout, 0.01)


def unknown_version(marker: str) -> bytes:
    """A well-formed envelope of a version no consumer knows: refused, never guessed at."""
    return json.dumps({
        "event_id": marker, "event_type": "transfer.completed.v99", "aggregate_type": "account",
        "aggregate_id": str(uuid.uuid4()), "occurred_at": datetime.now(UTC).isoformat(),
        "payload": {"amount": "a lot"}}).encode()


def dead_lettered_by(conn: psycopg.Connection, marker: str) -> int:
    row = conn.execute("SELECT count(DISTINCT consumer) FROM dead_letters"
                       " WHERE record_headers ->> %s = %s", (POISON_HEADER, marker)).fetchone()
    return int(row[0]) if row else 0


def wait_dead_lettered(env: ChaosEnv, marker: str, timeout: float) -> bool:
    with connect(env) as conn:
        return wait_until(lambda: dead_lettered_by(conn, marker) >= len(CONSUMER_NAMES),
                          timeout, 0.1)


def since(env: ChaosEnv) -> datetime:
    """Rows of this run: the chaos database is reused across runs of `make chaos`."""
    return datetime.fromtimestamp(env.run_started or 0, UTC)


def elapsed(began: float) -> float:
    return round(time.monotonic() - began, 1)
