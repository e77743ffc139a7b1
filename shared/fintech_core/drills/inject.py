"""Faults injected from outside the API process: kill it, cut its database, restart servers.

Everything here acts on the real thing (a signal, `pg_terminate_backend`, `pg_ctl stop`) and
waits for the database to *show* the state a fault needs (a transaction open, requests queued on
a lock) instead of sleeping and hoping, so the drills are repeatable on a slow machine.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator

import psutil
import psycopg

from fintech_core.drills.drill import DrillSkipped, Stage
from fintech_core.drills.timeline import Timeline
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import port_open


def wait_for(what: str, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:g} s")
        time.sleep(0.02)


def count(database_url: str, query: str) -> int:
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


# --- the API process -------------------------------------------------------------------------
def kill_api(stage: Stage, timeline: Timeline) -> None:
    """SIGKILL, like the OOM killer or a pulled plug: no finally block, no rollback sent."""
    pid = stage.api.running_pid()
    if pid is None:
        raise RuntimeError("the API is not running")
    os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(psutil.NoSuchProcess):
        psutil.Process(pid).wait(10)
    timeline.log("api", "fault", f"SIGKILL to the API process (pid {pid})")


def restart_api(stage: Stage, timeline: Timeline, why: str = "") -> None:
    started = time.monotonic()
    stage.api.stop()
    stage.api.start()
    ms = (time.monotonic() - started) * 1000
    timeline.log("api", "note", f"the supervisor restarted the API in {ms:.0f} ms{why}")


# --- the database ----------------------------------------------------------------------------
API_BACKENDS = ("SELECT pid FROM pg_stat_activity WHERE application_name = 'fincore-api'"
                " AND datname = current_database() AND state = 'idle in transaction'")


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


def restart_postgres(lab: Lab, timeline: Timeline, down_s: float = 0.3) -> None:
    """Fast shutdown (every backend terminated, open transactions rolled back), then start."""
    pg = lab.postgres
    if pg is None:
        raise DrillSkipped("PostgreSQL is external (FINCORE_DATABASE_URL): the drill does not "
                           "restart a server it does not own")
    if not pg.running():
        raise DrillSkipped(f"the PostgreSQL on port {pg.port} is not this lab's embedded server")
    timeline.log("database", "fault", "PostgreSQL fast shutdown: sessions killed, open "
                 "transactions rolled back")
    pg.stop()
    timeline.log("database", "note", "PostgreSQL is down")
    time.sleep(down_s)
    pg.start()
    timeline.log("database", "note", "PostgreSQL is back")


# --- the broker (phase 2 drills) -------------------------------------------------------------
def broker_down(lab: Lab, timeline: Timeline) -> None:
    if lab.broker is None:
        raise DrillSkipped("the broker is external (FINCORE_KAFKA_BOOTSTRAP)")
    broker = lab.broker
    broker.stop()
    wait_for("the broker port to close", lambda: not port_open(broker.host, broker.port))
    timeline.log("broker", "fault", "the broker is down (memory storage: its topics are gone)")


def broker_up(lab: Lab, timeline: Timeline) -> None:
    if lab.broker is None:
        raise DrillSkipped("the broker is external (FINCORE_KAFKA_BOOTSTRAP)")
    lab.broker.start()
    timeline.log("broker", "note", "the broker is back (empty)")
