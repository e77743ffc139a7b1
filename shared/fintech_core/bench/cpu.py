"""CPU time per request, per process: the API and PostgreSQL (postmaster and its backends).

On a 2-core laptop throughput is capped by CPU, and CPU seconds per request are far steadier than
requests per second when other programs compete for the cores. Usage:

    fcl bench-cpu --phase 1 --clients 4 --seconds 6 [--pipeline]
"""

from __future__ import annotations

from typing import Any

import psutil

from fintech_core.bench.runner import loadgen, seed
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


def measure(composition: Composition, clients: int, seconds: float, workload: str = "uniform",
            pipeline: bool = False, settings: Settings | None = None) -> dict[str, Any]:
    phase = composition.number
    lab = Lab((settings or Settings()).model_copy(update={"database_prefix": "fincore_cpu"}))
    lab.start_servers()
    lab.prepare_database(composition)
    api = lab.api(composition, port=free_port(), host="127.0.0.1", db_pipeline=pipeline)
    api.start()
    try:
        accounts = seed(api.url(), 50)
        pid = api.running_pid()
        assert pid is not None
        api_proc = [psutil.Process(pid)]
        before = _cpu_seconds(api_proc), _cpu_seconds(postgres_processes(lab))
        result = loadgen(api.url(), workload, clients, seconds, accounts)
        after = _cpu_seconds(api_proc), _cpu_seconds(postgres_processes(lab))
    finally:
        api.stop()
    n = max(1, result["requests"])
    return {"phase": phase, "clients": clients, "pipeline": pipeline, "requests": n,
            "per_second": result["per_second"],
            "api_cpu_ms_per_request": round(1000 * (after[0] - before[0]) / n, 3),
            "postgres_cpu_ms_per_request": round(1000 * (after[1] - before[1]) / n, 3)}
