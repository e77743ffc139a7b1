"""CPU time per request, per process: the API (its workers included), PostgreSQL (postmaster
and its backends) and, from phase 4 on, Redis (the rate limiter's Lua script).

On a 2-core laptop throughput is capped by CPU, and CPU seconds per request are far steadier than
requests per second when other programs compete for the cores. Usage:

    fcl bench-cpu --phase 1 --clients 4 --seconds 6 [--pipeline]

`CpuMeter` is the same reading for any bench run (the phase-cost table uses it per row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psutil

from fintech_core.bench import auth
from fintech_core.phase import Composition
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port


def _cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass  # a backend that ended between listing and reading
    return total


def postgres_processes(lab: Lab) -> list[psutil.Process]:
    if lab.postgres is None:
        raise RuntimeError("PostgreSQL CPU is measured only for the embedded server")
    pid = int((lab.postgres.data / "postmaster.pid").read_text().split()[0])
    master = psutil.Process(pid)
    return [master, *master.children()]


def _tree(pid: int) -> list[psutil.Process]:
    """The process and its children: `uvicorn --workers N` serves from its children."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


@dataclass(frozen=True)
class CpuMeter:
    """CPU seconds of the API's processes, PostgreSQL's (embedded server only) and Redis's
    (embedded only), read before and after a load run: `per_request` divides the difference."""

    api_pid: int
    lab: Lab

    def read(self) -> dict[str, float | None]:
        pg = _cpu_seconds(postgres_processes(self.lab)) if self.lab.postgres else None
        redis_pid = self.lab.redis.pid.read() if self.lab.redis is not None else None
        return {"api": _cpu_seconds(_tree(self.api_pid)), "postgres": pg,
                "redis": _cpu_seconds(_tree(redis_pid)) if redis_pid else None}

    @staticmethod
    def per_request(before: dict[str, float | None], after: dict[str, float | None],
                    requests: int) -> dict[str, float | None]:
        """ms of CPU per request, per process kind, and their sum (`total`, the known ones)."""
        n = max(1, requests)
        out: dict[str, float | None] = {}
        for kind, b in before.items():
            a = after.get(kind)
            out[kind] = None if a is None or b is None else round(1000 * (a - b) / n, 3)
        out["total"] = round(sum(v for v in out.values() if v is not None), 3)
        return out


def measure(composition: Composition, clients: int, seconds: float, workload: str = "uniform",
            pipeline: bool = False, settings: Settings | None = None) -> dict[str, Any]:
    phase = composition.number
    lab = Lab((settings or Settings()).model_copy(update={"database_prefix": "fincore_cpu"}))
    lab.start_servers()
    lab.prepare_database(composition)
    from fintech_core.bench.runner import loadgen, seed  # runner -> phase_costs -> this module

    api = lab.api(composition, port=free_port(), host="127.0.0.1", db_pipeline=pipeline)
    api.start()
    auth.register(api.url(), composition, lab.settings)
    try:
        accounts = seed(api.url(), 50)
        pid = api.running_pid()
        assert pid is not None
        meter = CpuMeter(pid, lab)
        before = meter.read()
        result = loadgen(api.url(), workload, clients, seconds, accounts)
        after = meter.read()
    finally:
        api.stop()
        auth.forget(api.url())
    n = max(1, result["requests"])
    ms = CpuMeter.per_request(before, after, n)
    return {"phase": phase, "clients": clients, "pipeline": pipeline, "requests": n,
            "per_second": result["per_second"], "statuses": result["statuses"],
            "api_cpu_ms_per_request": ms["api"],
            "postgres_cpu_ms_per_request": ms["postgres"],
            "redis_cpu_ms_per_request": ms["redis"]}
