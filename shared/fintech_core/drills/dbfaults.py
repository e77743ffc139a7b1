"""Database faults: cut the API's backend mid-transaction, hold a row lock, restart PostgreSQL.

Each acts on the real server and is confirmed there: a transaction seen open in
`pg_stat_activity` before it is cut, requests seen queued on a lock, the port seen closed and a
query answered after a restart.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import psycopg

from fintech_core.drills.drill import DrillSkipped
from fintech_core.drills.inject import wait_for
from fintech_core.drills.timeline import Timeline
from fintech_core.stack.lab import Lab
from fintech_core.stack.postgres import EmbeddedPostgres
from fintech_core.stack.processes import port_open, wait_until


def count(database_url: str, query: str) -> int:
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


# The API's backends inside an open transaction: 'idle in transaction' between statements, or
# 'active' while a pipelined unit of work waits for its next message (phase 1's uow streams its
# statements and COMMIT in one pipeline). Idle pooled connections are not in a transaction.
API_BACKENDS = ("SELECT pid FROM pg_stat_activity WHERE application_name = 'fincore-api'"
                " AND datname = current_database() AND pid <> pg_backend_pid()"
                " AND xact_start IS NOT NULL AND state <> 'idle'")


def open_transactions(database_url: str) -> int:
    return count(database_url, f"SELECT count(*) FROM ({API_BACKENDS}) b")


def terminate_backends(database_url: str, timeline: Timeline) -> int:
    """Kill the API's backends that sit inside an open transaction (the request is between
    its statements): PostgreSQL rolls that transaction back; idle pooled connections live on."""
    killed = count(database_url, "SELECT count(*) FROM (SELECT pg_terminate_backend(pid)"
                   f" FROM ({API_BACKENDS}) b) t")
    timeline.log("database", "fault", f"pg_terminate_backend on {killed} API backend(s)"
                 " in an open transaction")
    return killed


def lock_waiters(database_url: str) -> int:
    return count(database_url, "SELECT count(*) FROM pg_stat_activity WHERE datname ="
                 " current_database() AND wait_event_type = 'Lock'")


@contextlib.contextmanager
def row_locked(database_url: str, table: str, row_id: object, timeline: Timeline) -> Iterator[None]:
    """Hold a row lock, as a slow batch job would; released (committed) on exit."""
    with psycopg.connect(database_url, autocommit=True) as conn, conn.transaction():
        conn.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", (row_id,))
        timeline.log("database", "fault", f"a batch job locks the source row in {table}")
        yield
    timeline.log("database", "note", "the batch job commits and releases the row")


def _owns_port(pg: EmbeddedPostgres) -> bool:
    """Our data directory's postmaster.pid names our port (its 4th line): the server listening
    there is this lab's, not one from another lab directory."""
    try:
        lines = (pg.data / "postmaster.pid").read_text().splitlines()
    except OSError:
        return False
    return len(lines) > 3 and lines[3].strip() == str(pg.port)


def restart_postgres(lab: Lab, timeline: Timeline, down_s: float = 0.3) -> None:
    """Fast shutdown (every backend terminated, open transactions rolled back), then start.
    Each step is confirmed on the wire (port closed, then a real query), not assumed."""
    pg = lab.postgres
    if pg is None:
        raise DrillSkipped("PostgreSQL is external (FINCORE_DATABASE_URL): the drill does not "
                           "restart a server it does not own")
    if not _owns_port(pg):
        raise DrillSkipped(f"the PostgreSQL on port {pg.port} is not this lab's embedded server")
    timeline.log("database", "fault", "PostgreSQL fast shutdown: sessions killed, open "
                 "transactions rolled back")
    pg.stop()
    if not wait_until(lambda: not port_open(pg.host, pg.port), timeout=20):
        raise RuntimeError(f"PostgreSQL on port {pg.port} did not stop: `pg_ctl status` cannot "
                           f"see it; can its service user still read {pg.data}?")
    timeline.log("database", "note", "PostgreSQL is down")
    time.sleep(down_s)
    pg.start()
    wait_for("PostgreSQL to answer a query", lambda: pg.health().ok, timeout=30)
    timeline.log("database", "note", "PostgreSQL is back")
