"""What phase 3's chaos faults and hooks share: the provider simulator of the run, its knobs, the
payments workload's scope, and the reconciliation run as a reader runs it (`fcl payments
reconcile --json`, a process of its own).

The simulator is the session's `provider` worker when the composition declares one; otherwise
the first provider fault starts one (same lab directory, so the same secrets.json, delivering to
the session's API) and the last `end` stops it. Either way it listens on the port the session
gave the API (a free one, never the lab's 8090).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import httpx
import psycopg

from fintech_core.provider_sim.secrets import load_or_create
from fintech_core.stack.processes import spawn, terminate, wait_until

if TYPE_CHECKING:
    from fintech_core.chaos.env import ChaosEnv
    from fintech_core.payments.chaos_workload import PaymentsWorkload
    from fintech_core.stack.session import LabSession

SIM = "payments.simulator"  # measures key: the Simulator handle of this run
WORKLOAD = "payments.workload"  # measures key: the PaymentsWorkload of this run
OPEN_STATES = ("PENDING", "UNKNOWN", "AUTHORIZED")  # the worker or a webhook still owes an end


def session(env: ChaosEnv) -> LabSession:
    assert env.session is not None, "available() said no session"
    return env.session


def missing(env: ChaosEnv) -> str | None:
    if env.session is None:
        return "no lab session: the run did not start the API and workers itself"
    if "payments" not in env.session.composition.features:
        return f"phase {env.phase} has no payments (they arrive in phase 3)"
    if "payments" not in env.session.workers:
        return "the composition runs no payments worker"
    return None


def provider_port(env: ChaosEnv) -> int:
    """The port the session told its API (and its simulator worker, when it runs one)."""
    return int(session(env).lab.settings.provider_port)


class Simulator:
    """The run's provider simulator: health, knobs, reset, deliveries (admin key of the lab)."""

    def __init__(self, env: ChaosEnv) -> None:
        s = session(env)
        self.lab_dir = s.lab.settings.lab_dir
        self.url = f"http://127.0.0.1:{provider_port(env)}"
        self.pid: int | None = None
        if not self.healthy() and "provider" not in s.workers:
            self.pid = self._spawn(env)

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _spawn(self, env: ChaosEnv) -> int:
        s = session(env)
        log = self.lab_dir / "logs" / f"provider-chaos-{s.api.port}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        proc = spawn([sys.executable, "-m", "fintech_core.provider_sim.server"], log,
                     env=s.lab.env(phase=s.phase, api_host="127.0.0.1", api_port=s.api.port,
                                   provider_port=provider_port(env)))
        if not wait_until(lambda: self.healthy() or proc.poll() is not None, 60, 0.1) \
                or proc.poll() is not None:
            raise RuntimeError(f"the provider simulator did not start; see {log}")
        return proc.pid

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        key = load_or_create(self.lab_dir).admin_key
        r = httpx.request(method, f"{self.url}/_admin{path}", timeout=15,
                          headers={"Authorization": f"Bearer {key}"}, **kwargs)
        r.raise_for_status()
        return r.json()

    def knobs(self, **values: Any) -> None:
        self.admin("POST", "/knobs", json={"provider": "*", **values})

    def reset(self) -> None:
        self.admin("POST", "/reset")

    def undelivered(self) -> int:
        """Deliveries still to go out (pending, retrying or held back by a reorder)."""
        rows = self.admin("GET", "/deliveries")
        return sum(1 for d in rows if d["state"] in ("pending", "held", "retrying"))

    def stop(self) -> None:
        if self.pid is not None:
            terminate(self.pid)
            self.pid = None


def simulator(env: ChaosEnv) -> Simulator:
    if SIM not in env.measures:
        env.measures[SIM] = Simulator(env)
    sim: Simulator = env.measures[SIM]
    return sim


def workload(env: ChaosEnv) -> PaymentsWorkload | None:
    return env.measures.get(WORKLOAD)


def connect(env: ChaosEnv) -> psycopg.Connection:
    return psycopg.connect(env.database_url, autocommit=True, connect_timeout=10)


def open_resources(env: ChaosEnv, accounts: list[str]) -> int:
    """Pay-ins, payouts and refunds of the workload's accounts that still wait for an end."""
    with connect(env) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM payments WHERE account_id = ANY(%(a)s::uuid[])"
            "   AND state = ANY(%(s)s)) + (SELECT count(*) FROM payouts"
            "   WHERE account_id = ANY(%(a)s::uuid[]) AND state = ANY(%(s)s || '{CAPTURED}'))"
            " + (SELECT count(*) FROM refunds WHERE account_id = ANY(%(a)s::uuid[])"
            "   AND state = ANY(%(s)s))", {"a": accounts, "s": list(OPEN_STATES)}).fetchone()
    return int(row[0]) if row else 0


def run_days(env: ChaosEnv) -> list[date]:
    """The UTC days the run touched (two when it crossed midnight)."""
    first = datetime.fromtimestamp(env.run_started or time.time(), UTC).date()
    last = datetime.now(UTC).date()
    return sorted({first, last})


def reconcile(env: ChaosEnv, day: date) -> list[dict[str, Any]]:
    """`fcl payments reconcile --date D --json` against the run's database and simulator."""
    s = session(env)
    cli = s.composition.entrypoints.cli_module
    out = subprocess.run(
        [sys.executable, "-m", cli, "payments", "reconcile", "--date", day.isoformat(), "--json"],
        env=s.lab.env(phase=s.phase, provider_port=provider_port(env)), capture_output=True,
        text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(f"reconcile exited {out.returncode}: {out.stderr[-1500:]}")
    findings: list[dict[str, Any]] = json.loads(out.stdout)["findings"]
    return findings
