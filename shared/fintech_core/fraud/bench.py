"""Phase 5 in the benchmark (Phase.bench_parts; protocol as events/bench.py): what the fraud
check costs a POST /transfers, and what the latency budget guarantees when the engine is slow.

- Cost: a phase-4 and a phase-5 API, each on a fresh database of its own (request path alone,
  no workers, as the phase-cost table), run the same closed-loop uniform load alternately,
  twice each: CPU ms per transfer (API + PostgreSQL + Redis, bench/cpu.py) and p99. The bench
  drives as the lab's driver, a *service* caller that no v1 rule reviews; it still pays what
  every transfer pays: the feature store's Redis round trip and the rule set's evaluation.
- Budget: the phase-5 API again, in drill mode with the engine slowed to SLOW_FACTOR times the
  budget (FINCORE_FRAUD_ENGINE_DELAY_MS), against the same API at its normal speed, both open
  loop at the same modest rate, alternately, twice each (latency from each request's scheduled
  time, so a slow answer cannot hide by slowing the senders). `p99_over_budget_bound` is the
  slowed p99 over (the normal p99 + the budget): about 1 when the budget holds, about (p99 +
  delay) / (p99 + budget) if it did not. The checks are the database's: every slowed transfer
  was decided by the fallback (`budget-exceeded`), and the money checks of each run; how many
  normal ones fell back too is a figure (a saturated machine can make a healthy engine miss).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fintech_core.fraud.bench_api import BenchApi, alternate
from fintech_core.phase import Composition, compose
from fintech_core.stack.lab import Lab

Progress = Callable[[str], None]
LoadGen = Callable[..., dict[str, Any]]
SLOW_FACTOR = 3  # the slowed engine answers after 3x the budget: far past it, never in it


class FraudBench:
    name = "fraud"

    def __init__(self, lab: Lab, composition: Composition, db_url: str, tag: str,
                 drain_timeout: float, **flags: object) -> None:
        self.lab, self.composition = lab, composition
        self.previous = compose(composition.phases[:-1], composition.entrypoints)
        self.budget_ms = int(lab.settings.fraud_budget_ms)

    def start(self) -> None:
        """Nothing: the part's APIs start in measure(), on databases of their own."""

    def drain(self, after_seq: int | None = None) -> tuple[bool, float]:
        return True, 0.0

    def stop(self) -> None:
        """Nothing: measure() stops every API it started, whatever happens."""

    def measure(self, api_url: str, accounts: list[str], rows: list[dict[str, Any]],
                seconds: float, backlog: int, loadgen: LoadGen, progress: Progress
                ) -> dict[str, Any]:
        old, new = f"phase{self.previous.number}", f"phase{self.composition.number}"
        slow_ms = SLOW_FACTOR * self.budget_ms
        apis = {old: BenchApi(self.lab, self.previous, "fincore_bench_fraud"),
                new: BenchApi(self.lab, self.composition, "fincore_bench_fraud"),
                "slowed": BenchApi(self.lab, self.composition, "fincore_bench_fraud_slow",
                                   drill_mode=True, fraud_engine_delay_ms=slow_ms)}
        try:
            for api in apis.values():
                api.start()
            progress(f"fraud: POST /transfers, {old} vs {new}, alternately")
            cost = alternate({old: apis[old], new: apis[new]}, loadgen, seconds)
            rate = round(max(5.0, min(20.0, cost[new]["per_second"] / 2)), 1)
            progress(f"fraud: engine slowed to {slow_ms} ms (budget {self.budget_ms} ms), "
                     f"open loop at {rate}/s, against the normal engine")
            # Twice each, alternately, and twice as long: a p99 needs more than a few dozen
            # answers, and the machine's load must fall on both engines alike.
            paced = alternate({"normal": apis[new], "slowed": apis["slowed"]}, loadgen,
                              2 * seconds, rate=rate)
        finally:
            for api in apis.values():
                api.stop()
        normal, slowed = paced["normal"], paced["slowed"]
        created_slow = sum(r["statuses"].get("201", 0) for r in slowed["runs"])
        verdicts = {
            "money_checks": all(r["checks"]["ok"] for r in (*cost.values(), normal, slowed)),
            "slowed_always_fell_back": created_slow > 0 and all(
                r["fallbacks"] == {"budget-exceeded": r["statuses"].get("201", 0)}
                for r in slowed["runs"]),
        }
        cpu = {label: cost[label]["cpu_ms_per_transfer"]["total"] for label in (old, new)}
        return {
            "transfers": {**cost, "seconds_each": seconds,
                          f"cpu_ms_{new}_minus_{old}": round(cpu[new] - cpu[old], 3),
                          f"cpu_{new}_over_{old}": round(cpu[new] / max(cpu[old], 1e-9), 3),
                          f"{new}_over_{old}_per_second": round(
                              cost[new]["per_second"] / max(cost[old]["per_second"], 1e-9), 3)},
            "budget": {"budget_ms": self.budget_ms, "engine_delay_ms": slow_ms,
                       "offered_per_second": rate, "seconds_each": 2 * seconds,
                       "normal": normal, "slowed": slowed,
                       **{f"{q}_over_budget_bound": round(
                           slowed[f"{q}_ms"] / (normal[f"{q}_ms"] + self.budget_ms), 3)
                          for q in ("p50", "p95", "p99")},
                       "p99_over_unbounded_bound": round(
                           slowed["p99_ms"] / (normal["p99_ms"] + slow_ms), 3),
                       # Per round: a round another program disturbed shows as one outlier.
                       "p99_over_budget_bound_per_round": [
                           round(sl["latency_ms"]["p99"] / (no["latency_ms"]["p99"]
                                                           + self.budget_ms), 3)
                           for no, sl in zip(normal["runs"], slowed["runs"], strict=True)],
                       # A figure, not a check: on a saturated machine a healthy engine can
                       # miss its budget too (its event loop waits for a core), and that is
                       # what the fallback is for.
                       "normal_fallbacks": sum(sum(r["fallbacks"].values())
                                               for r in normal["runs"])},
            "checks": {**verdicts, "ok": all(verdicts.values())},
        }


def main(composition: Composition, seconds: float = 5.0) -> dict[str, Any]:
    """The part alone, on servers of its own (a temporary lab on free ports, as a notebook's
    session: never a running `make up`), JSON on stdout. From the repository's root:
    `.venv/bin/python -c "from phases import composition; from fintech_core.fraud.bench import
    main; main(composition(5))"` (the core never imports the phase registry itself)."""
    import json
    import shutil
    import sys

    from fintech_core.bench.runner import loadgen
    from fintech_core.settings import Settings
    from fintech_core.stack.session import own_lab

    settings, lab_dir = own_lab(Settings())
    lab = Lab(settings.model_copy(update={"database_prefix": "fincore_bench"}))
    try:
        lab.start_servers()
        out = FraudBench(lab, composition, "", "fraudbench", 60.0).measure(
            "", [], [], seconds, 0, loadgen, lambda msg: print(msg, file=sys.stderr))
    finally:
        lab.down()
        shutil.rmtree(lab_dir, ignore_errors=True)
    print(json.dumps(out, indent=2))
    return out
