"""Faults injected from outside the API process: kill it, restart it, stop the broker.
Database faults are in `dbfaults`.

Everything here acts on the real thing (a signal, a stopped server) and confirms it on the wire,
and `wait_for` lets drills wait for the state a fault needs instead of sleeping and hoping, so
they are repeatable on a slow, busy machine.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable

import psutil

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


# --- Redis (phase 4 drills: the rate limiter's store) ----------------------------------------
def redis_down(lab: Lab, timeline: Timeline) -> None:
    """Stop the lab's embedded Redis (SHUTDOWN NOSAVE: its counters are disposable) and confirm
    the port is closed. Refused for an external Redis: others may depend on it."""
    if lab.redis is None:
        raise DrillSkipped("Redis is external (FINCORE_REDIS_URL)")
    redis = lab.redis
    redis.stop()
    wait_for("the Redis port to close", lambda: not port_open(redis.host, redis.port))
    timeline.log("redis", "fault", f"Redis is down (port {redis.port} closed)")


def redis_up(lab: Lab, timeline: Timeline) -> None:
    """Start it again (empty: every rate-limit key starts from a full allowance)."""
    if lab.redis is None:
        raise DrillSkipped("Redis is external (FINCORE_REDIS_URL)")
    lab.redis.start()
    timeline.log("redis", "note", "Redis is back (empty: every allowance starts full)")
