"""The fraud bench part's APIs: one composition on a fresh database of its own, seeded, driven as
the bench drives (bench/auth.py), and measured per run: rate, latency, CPU per transfer, the
money checks, and how many of the run's transfers the engine decided by its fallback.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import psycopg

from fintech_core.bench import auth, checks
from fintech_core.bench.cpu import CpuMeter
from fintech_core.bench.phase_costs import prepared
from fintech_core.phase import Composition
from fintech_core.stack.api_server import ApiServer
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port

LoadGen = Callable[..., dict[str, Any]]
CLIENTS = 4
ACCOUNTS = 50


def fallbacks(db_url: str) -> Counter[str]:
    """Decisions per fallback kind, as stored by the phase's record step (none before phase 5)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('fraud_decisions')").fetchone() == (None,):
            return Counter()
        rows = conn.execute("SELECT fallback, count(*) FROM fraud_decisions"
                            " WHERE fallback IS NOT NULL GROUP BY fallback").fetchall()
    return Counter({str(kind): int(n) for kind, n in rows})


class BenchApi:
    """`flags` become FINCORE_* variables of the API (e.g. drill mode and the engine's delay)."""

    def __init__(self, lab: Lab, composition: Composition, prefix: str, **flags: object) -> None:
        self.lab, self.composition, self.prefix, self.flags = lab, composition, prefix, flags
        self.server: ApiServer | None = None
        self.accounts: list[str] = []
        self.db_url = ""

    @property
    def url(self) -> str:
        assert self.server is not None, "start() first"
        return self.server.url()

    def start(self) -> None:
        from fintech_core.bench.runner import seed  # runner -> the phases' bench parts -> here

        scoped, self.db_url = prepared(self.lab, self.prefix, self.composition)
        self.server = scoped.api(self.composition, port=free_port(), host="127.0.0.1",
                                 **self.flags)
        self.server.workers = 2
        self.server.start(timeout=180)  # three APIs start in turn, on a machine under load
        auth.register(self.url, self.composition, scoped.settings)
        self.accounts = seed(self.url, ACCOUNTS)
        pid = self.server.running_pid()
        assert pid is not None
        self.meter = CpuMeter(pid, scoped)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            auth.forget(self.server.url())

    def run(self, loadgen: LoadGen, seconds: float, rate: float | None = None) -> dict[str, Any]:
        before, fb_before = checks.ledger_state(self.db_url, self.accounts), fallbacks(self.db_url)
        cpu_before = self.meter.read()
        result = loadgen(self.url, "uniform", CLIENTS, seconds, self.accounts, rate=rate)
        cpu = CpuMeter.per_request(cpu_before, self.meter.read(), result["requests"])
        after, fb_after = checks.ledger_state(self.db_url, self.accounts), fallbacks(self.db_url)
        verdict = checks.verify(before, after, result["statuses"].get("201", 0),
                                checks.ledger_report(self.url))
        return {**result, "cpu_ms_per_transfer": cpu, "fallbacks": dict(fb_after - fb_before),
                "checks": verdict}


def alternate(apis: dict[str, BenchApi], loadgen: LoadGen, seconds: float,
              times: int = 2, rate: float | None = None) -> dict[str, dict[str, Any]]:
    """Each API in turn, `times` rounds, so a change in the machine's load (2 cores shared
    with other sessions) falls on every API alike; per API the runs and their means."""
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in apis}
    for _ in range(times):
        for label, api in apis.items():
            runs[label].append(api.run(loadgen, seconds, rate=rate))

    def mean(values: list[float]) -> float:
        return round(sum(values) / len(values), 3)

    out = {}
    for label, rs in runs.items():
        kinds = [k for k in rs[0]["cpu_ms_per_transfer"] if rs[0]["cpu_ms_per_transfer"][k]
                 is not None]
        out[label] = {
            "per_second": mean([r["per_second"] for r in rs]),
            "p50_ms": mean([r["latency_ms"]["p50"] for r in rs]),
            "p95_ms": mean([r["latency_ms"]["p95"] for r in rs]),
            "p99_ms": mean([r["latency_ms"]["p99"] for r in rs]),
            "cpu_ms_per_transfer": {k: mean([r["cpu_ms_per_transfer"][k] for r in rs])
                                    for k in kinds},
            "runs": rs, "checks": {"ok": all(r["checks"]["ok"] for r in rs)}}
    return out
