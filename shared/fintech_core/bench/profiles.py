"""Benchmark profiles: how long, how many clients, how big. Figures, never test assertions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    workloads: tuple[str, ...]
    clients: tuple[int, ...]
    seconds: float
    accounts: int
    pgbench_scale: int
    # Phase 2: the relay's claim size while the bench runs (None: the default, 500), and the
    # backlog it drains for its rate (several claims; smoke's backlog is small, so are its claims).
    relay_batch: int | None = None
    relay_backlog: int = 2500
    phase_costs: bool = True  # the table per phase and mode (bench/phase_costs.py)


# pgbench's scale should be at least the client count, or tpcb-like queues on its branch rows
# and stops measuring the database. quick caps it at 16 to keep `pgbench -i` under ~15 s.
PROFILES = {
    "smoke": Profile("smoke", ("uniform", "hot"), (1, 4), 1.5, 20, 1, relay_batch=25,
                     relay_backlog=100, phase_costs=False),
    "quick": Profile("quick", ("uniform", "hot", "mixed"), (1, 4, 16, 64), 5, 1000, 16),
    "full": Profile("full", ("uniform", "hot", "mixed"), (1, 4, 16, 64), 20, 10_000, 64,
                    relay_backlog=10_000),
}

# Which pgbench script is the yardstick for each workload.
YARDSTICK = {"uniform": "tpcb-like", "mixed": "tpcb-like", "hot": "hot-account"}
