"""Run a profile: seed, then for each workload and client count, the API and pgbench back to back
on the same PostgreSQL, with a correctness check after every API run. From phase 2 on, the relay
and consumers run throughout, and the events part follows: each phase may declare bench parts
(`Phase.bench_parts`, e.g. events/bench.py) that run beside the API runs and add their figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from fintech_core.bench import auth, checks, pgbench, phase_costs
from fintech_core.bench.profiles import YARDSTICK, Profile
from fintech_core.db.admin import drop_database, ensure_database
from fintech_core.db.urls import with_database
from fintech_core.phase import Composition
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port

Progress = Callable[[str], None]
SEED_BALANCE = 10**12  # large enough that no benchmark transfer is refused for funds


@dataclass
class BenchRun:
    profile: str
    phase: int
    api_workers: int
    started_at: str
    client_ceiling_rps: float = 0.0
    rows: list[dict[str, Any]] = field(default_factory=list)
    # The same workload on phases 0..N, per request and with group commit (bench/phase_costs.py)
    phase_costs: list[dict[str, Any]] = field(default_factory=list)
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)  # bench part -> its figures

    @property
    def events(self) -> dict[str, Any] | None:
        """Phase 2's part: relay throughput, lag at half load (None before phase 2)."""
        return self.parts.get("events")

    def ok(self) -> bool:
        return all(r["checks"]["ok"] for r in (*self.rows, *self.phase_costs)) and all(
            bool(p["checks"]["ok"]) for p in self.parts.values())


def loadgen(url: str, workload: str, clients: int, seconds: float, accounts: list[str],
            rate: float | None = None) -> dict[str, Any]:
    """Closed loop with `clients` connections, or open loop at `rate` requests/s over them.
    From phase 4 on, as the lab's driver: one token for the run, in the environment."""
    paced = [] if rate is None else ["--rate", str(rate)]
    out = subprocess.run(
        [sys.executable, "-m", "fintech_core.bench.loadgen", "--url", url, "--workload", workload,
         "--clients", str(clients), "--seconds", str(seconds), "--accounts", ",".join(accounts),
         *paced], check=True, capture_output=True, text=True, timeout=2 * seconds + 120,
        env={**os.environ, **auth.loadgen_env(url, seconds)})
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def seed(api_url: str, n: int) -> list[str]:
    """`n` accounts holding SEED_BALANCE each (from phase 4 on, held by the lab's driver)."""
    accounts = []
    with httpx.Client(base_url=api_url, timeout=30, auth=auth.auth_of(api_url)) as http:
        for i in range(n):
            r = http.post("/accounts", json={"owner": f"bench-{i}", "currency": "EUR"})
            r.raise_for_status()
            account = r.json()["id"]
            http.post(f"/accounts/{account}/deposits", json={"amount": SEED_BALANCE, "currency": "EUR"},
                      headers={"Idempotency-Key": uuid.uuid4().hex}).raise_for_status()
            accounts.append(account)
    return accounts


def run_profile(profile: Profile, composition: Composition, settings: Settings | None = None,
                api_workers: int = 2, progress: Progress = print) -> BenchRun:
    # Worker servers the bench starts itself (a phase's simulator) get a free port, so a bench
    # run beside `make up` measures its own processes, never the lab's.
    lab = Lab((settings or Settings()).model_copy(
        update={"database_prefix": "fincore_bench", "provider_port": free_port()}))
    # Servers already running (make up, a test session) are reused and left running; the ones
    # this run starts are stopped at the end, so a benchmark never leaves servers behind.
    started = [c for c in lab.embedded() if not c.health().ok]
    lab.start_servers(progress)
    try:
        return _run(lab, profile, composition, api_workers, progress)
    finally:
        for component in reversed(started):
            component.stop()


def _run(lab: Lab, profile: Profile, composition: Composition, api_workers: int,
         progress: Progress) -> BenchRun:
    phase = composition.number
    server = lab.database_url()
    drop_database(server, lab.settings.model_copy(update={"phase": phase}).database_name())
    db_url = lab.prepare_database(composition, progress)
    pgbench_url = with_database(server, "fincore_bench_pgbench")
    drop_database(server, "fincore_bench_pgbench")
    ensure_database(server, "fincore_bench_pgbench")
    progress(f"pgbench -i -s {profile.pgbench_scale}")
    pgbench.initialise(pgbench_url, profile.pgbench_scale)
    api = lab.api(composition, port=free_port(), host="127.0.0.1",
                  db_pool_max=max(profile.clients) // api_workers + 2)
    api.workers = api_workers
    flags = {"relay_batch_size": profile.relay_batch} if profile.relay_batch else {}
    parts = [make(lab, composition, db_url, tag=f"bench{api.port}",
                  drain_timeout=max(60.0, 20 * profile.seconds), **flags)
             for make in composition.bench_parts]
    ys_url = phase_costs.yardstick_db(lab, composition, profile.accounts)
    api.start()
    auth.register(api.url(), composition, lab.settings)
    run = BenchRun(profile.name, phase, api_workers, time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    try:
        for part in parts:
            progress(f"starting the {part.name} part's processes")
            part.start()
        progress(f"seeding {profile.accounts} accounts")
        accounts = seed(api.url(), profile.accounts)
        for part in parts:
            part.drain()  # e.g. the deposits' events: consumed before anything is measured
        ceiling = loadgen(api.url(), "health", 16, min(3.0, profile.seconds), accounts)
        run.client_ceiling_rps = ceiling["per_second"]
        progress(f"load generator ceiling (GET /health, 16 clients): {ceiling['per_second']} req/s")
        for workload in profile.workloads:
            for clients in profile.clients:
                progress(f"{workload}: {clients} clients")
                before = checks.ledger_state(db_url, accounts)
                result = loadgen(api.url(), workload, clients, profile.seconds, accounts)
                after = checks.ledger_state(db_url, accounts)
                verdict = checks.verify(before, after, result["statuses"].get("201", 0),
                                       checks.ledger_report(api.url()))
                for part in parts:
                    if not part.drain()[0]:
                        progress(f"{part.name}: backlog not drained in time; pgbench shares "
                                 "the cores with it")
                yardstick = YARDSTICK[workload]
                tps = pgbench.run(pgbench_url, clients, profile.seconds, yardstick)
                # The SQL-only yardstick of mixed is uniform's: its reads are not transfers.
                ys = phase_costs.yardstick_tps(ys_url, composition, workload, clients,
                                               profile.seconds, profile.accounts)
                run.rows.append({"workload": workload, "clients": clients, "api": result,
                                 "pgbench": {"script": yardstick, "tps": tps},
                                 "ratio": round(result["per_second"] / tps, 3) if tps else None,
                                 "yardstick_tps": ys,
                                 "vs_yardstick": round(result["per_second"] / ys, 3) if ys
                                 else None,
                                 "rate_limited": result["statuses"].get("429", 0),
                                 "checks": verdict})
        for part in parts:
            run.parts[part.name] = part.measure(api.url(), accounts, run.rows, profile.seconds,
                                                profile.relay_backlog, loadgen, progress)
    finally:
        for part in parts:
            part.stop()
        api.stop()
        auth.forget(api.url())
    measured = {(r["workload"], r["clients"]): r["pgbench"]["tps"] for r in run.rows}

    def pgbench_tps(workload: str, clients: int) -> float:
        if (workload, clients) not in measured:
            measured[workload, clients] = pgbench.run(pgbench_url, clients, profile.seconds,
                                                      YARDSTICK[workload])
        return measured[workload, clients]

    if profile.phase_costs:
        run.phase_costs = phase_costs.measure(lab, composition, profile, api_workers, pgbench_tps,
                                              loadgen, seed, progress)
    return run
