"""What each concern costs on the request path: the same workload against phases 0..N, in both
request-path modes (one transaction per request, group commit), in the run that measured the
main table, so every ratio shares its pgbench figures and its machine state.

Per phase: a fresh `fincore_bench_cost_p<k>` database, its API (no relay or consumers: this
is the request path alone, so phase 2's figures here are higher than in the main table, where
its workers share the cores), and its yardstick database (bench/yardstick.py). Rows: uniform at
1 and at the top client count, hot at the top client count; ratio to pgbench (tpcb-like, or the
hot-account script) and to the phase's own yardstick; CPU milliseconds per request of the API's
processes, PostgreSQL's and Redis's (bench/cpu.py), the steadier figure on a shared machine: the
difference between phase k and k-1 is what phase k's concern costs a transfer (phase 4: token
verification, ownership checks, the rate limiter's Redis call and the amount limits; phase 5:
the fraud engine's feature-store script in Redis, the rule evaluation and the stored decision,
paid by the bench's service caller too, whom no v1 rule scores; see fraud/bench.py).

From phase 4 on the load runs as the lab's driver (bench/auth.py), a service client whose
per-service rate bucket is sized above what the bench drives: a `429` count in a row means the
limiter, not the API, set that row's pace (the `rate_limited` field; it should be 0).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fintech_core.bench import auth, checks, pgbench
from fintech_core.bench.cpu import CpuMeter
from fintech_core.bench.profiles import YARDSTICK, Profile
from fintech_core.bench.yardstick import prepare
from fintech_core.db.admin import drop_database
from fintech_core.phase import Composition, compose
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port

Progress = Callable[[str], None]
MODES = {"per request": False, "group commit": True}  # FINCORE_GROUP_COMMIT


def cases(profile: Profile) -> list[tuple[str, int]]:
    top = 16 if 16 in profile.clients else max(profile.clients)
    return [("uniform", min(profile.clients)), ("uniform", top), ("hot", top)]


def prepared(lab: Lab, prefix: str, composition: Composition) -> tuple[Lab, str]:
    scoped = Lab(lab.settings.model_copy(update={"database_prefix": prefix}))
    drop_database(lab.database_url(), scoped.settings.model_copy(
        update={"phase": composition.number}).database_name())
    return scoped, scoped.prepare_database(composition)


def yardstick_db(lab: Lab, composition: Composition, accounts: int) -> str | None:
    if composition.yardstick is None:
        return None
    _, url = prepared(lab, "fincore_bench_ys", composition)
    prepare(url, composition.yardstick, accounts)
    return url


def yardstick_tps(url: str | None, composition: Composition, workload: str, clients: int,
                  seconds: float, accounts: int) -> float | None:
    if url is None:
        return None
    text = composition.yardstick.script(accounts, hot=workload == "hot")
    return pgbench.run(url, clients, seconds, "yardstick", text)


def measure(lab: Lab, composition: Composition, profile: Profile, api_workers: int,
            pgbench_tps: Callable[[str, int], float], loadgen: Callable[..., dict[str, Any]],
            seed: Callable[[str, int], list[str]], progress: Progress) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    accounts_n = min(profile.accounts, 200)
    for k in range(len(composition.phases)):
        phase = compose(composition.phases[: k + 1], composition.entrypoints)
        progress(f"phase costs: phase {k}")
        scoped, db_url = prepared(lab, "fincore_bench_cost", phase)
        ys_url = yardstick_db(lab, phase, accounts_n)
        ys = {c: yardstick_tps(ys_url, phase, *c, profile.seconds, accounts_n)
              for c in cases(profile)}
        accounts: list[str] = []
        for mode, on in MODES.items():
            api = scoped.api(phase, port=free_port(), host="127.0.0.1", group_commit=on,
                             db_pool_max=max(profile.clients) // api_workers + 2)
            api.workers = api_workers
            api.start()
            auth.register(api.url(), phase, scoped.settings)
            try:
                accounts = accounts or seed(api.url(), accounts_n)
                pid = api.running_pid()
                assert pid is not None
                meter = CpuMeter(pid, scoped)
                for workload, clients in cases(profile):
                    progress(f"phase costs: phase {k}, {mode}, {workload} {clients}")
                    before = checks.ledger_state(db_url, accounts)
                    cpu_before = meter.read()
                    result = loadgen(api.url(), workload, clients, profile.seconds, accounts)
                    cpu = CpuMeter.per_request(cpu_before, meter.read(), result["requests"])
                    after = checks.ledger_state(db_url, accounts)
                    verdict = checks.verify(before, after, result["statuses"].get("201", 0),
                                            checks.ledger_report(api.url()))
                    tps = pgbench_tps(workload, clients)
                    y = ys[(workload, clients)]
                    rows.append({
                        "phase": k, "mode": mode, "workload": workload, "clients": clients,
                        "api": result, "pgbench": {"script": YARDSTICK[workload], "tps": tps},
                        "ratio": round(result["per_second"] / tps, 3) if tps else None,
                        "yardstick_tps": y,
                        "vs_yardstick": round(result["per_second"] / y, 3) if y else None,
                        "cpu_ms_per_request": cpu,
                        "rate_limited": result["statuses"].get("429", 0),
                        "checks": verdict})
            finally:
                api.stop()
                auth.forget(api.url())
    return rows
