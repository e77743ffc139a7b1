"""Fault injectors: each kind is one small class, named in one explicit registry.

A fault is `available(env)` or not (PostgreSQL restart needs the embedded server; network faults
need the drill proxy), and `inject(env, rng)` does it for real and *restores service* before it
returns, so the run always ends on a working stack. `inject` blocks: the runner calls it in a
thread. Each returns a short text for the log.

The faults here hit what every phase has (the API, PostgreSQL, the network). A phase declares
faults on what it adds in its `chaos_faults` (phase 2: relay kill, broker stop, consumer kill,
poison message, in events/chaos_faults.py) and the invariants they threaten in its
`chaos_hooks`; `registry` lists both. A fault may also have `begin(env)` and `end(env)`: the
runner calls them around the workload and the checks (e.g. to watch a topic the whole run), and
`quiesce(env)`, called once the workload ended and before the hooks judge (phase 3 stops its
payments workload there and waits until nothing is in flight).
"""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Sequence
from typing import Protocol

import httpx

from fintech_core.chaos.db_faults import PgRestart, PgTerminate
from fintech_core.chaos.env import ChaosEnv
from fintech_core.chaos.hooks import NetworkFaults


class Fault(Protocol):
    name: str

    def available(self, env: ChaosEnv) -> str | None:
        """None when the fault can run here; otherwise why not."""

    def inject(self, env: ChaosEnv, rng: random.Random) -> str: ...


class ApiKill:
    """SIGKILL the API at a random moment: no response, no rollback sent; PostgreSQL rolls back
    the open transactions when their connections drop."""

    name = "api-kill"

    def available(self, env: ChaosEnv) -> str | None:
        return None

    def inject(self, env: ChaosEnv, rng: random.Random) -> str:
        pid = env.api.running_pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            env.wait_api_gone()
        env.api.start()
        return f"killed pid {pid}, restarted"


class CrashPoint:
    """Crash the API exactly between COMMIT and the response (or just before COMMIT): the case a
    random SIGKILL rarely hits. Needs drill mode."""

    name = "crash-point"

    def available(self, env: ChaosEnv) -> str | None:
        return None if _drill(env) else "the API runs without drill mode"

    def inject(self, env: ChaosEnv, rng: random.Random) -> str:
        point = rng.choice(("transfer.after_commit", "transfer.before_commit"))
        _arm(env, {"point": point, "action": "crash", "times": 1})
        fired = env.wait_api_gone()
        if not fired:
            httpx.delete(f"{env.api_url}/_drill/faults", timeout=5, auth=env.auth)
        env.ensure_api()
        return f"crash at {point}" + ("" if fired else " (not reached; disarmed)")


class SlowTransfer:
    """Hold a handful of transfers for longer than most client timeouts, before or after COMMIT:
    clients give up, retry the key and meet 409 (still running) or a replay (committed)."""

    name = "slow-transfer"

    def available(self, env: ChaosEnv) -> str | None:
        return CrashPoint().available(env)

    def inject(self, env: ChaosEnv, rng: random.Random) -> str:
        point = rng.choice(("transfer.after_commit", "transfer.before_commit"))
        delay, times = rng.choice((200, 400, 800)), rng.randint(5, 20)
        _arm(env, {"point": point, "action": "delay", "delay_ms": delay, "times": times})
        return f"{times} transfers delayed {delay} ms at {point}"


class Network:
    """Break the next few connections through the drill proxy (drop, reset, cut, delay...)."""

    name = "network"

    def __init__(self, proxy: NetworkFaults | None) -> None:
        self.proxy = proxy

    def available(self, env: ChaosEnv) -> str | None:
        return None if self.proxy is not None else NetworkFaults.missing()

    def inject(self, env: ChaosEnv, rng: random.Random) -> str:
        assert self.proxy is not None
        return self.proxy.inject(rng)


def _drill(env: ChaosEnv) -> bool:
    try:
        return httpx.get(f"{env.api_url}/_drill/faults", timeout=5,
                         auth=env.auth).status_code == 200
    except httpx.HTTPError:
        return False


def _arm(env: ChaosEnv, body: dict[str, object]) -> None:
    httpx.post(f"{env.api_url}/_drill/faults", json=body, timeout=5,
               auth=env.auth).raise_for_status()


def registry(proxy: NetworkFaults | None, declared: Sequence[Fault] = ()) -> dict[str, Fault]:
    """The core's faults, then those the composed phases declare, by name."""
    faults: list[Fault] = [ApiKill(), CrashPoint(), SlowTransfer(), PgTerminate(), PgRestart(),
                           Network(proxy)]
    known = {f.name: f for f in faults}
    clash = known.keys() & {f.name for f in declared}
    if clash:
        raise ValueError(f"a phase declares faults the core already has: {sorted(clash)}")
    return known | {f.name: f for f in declared}
