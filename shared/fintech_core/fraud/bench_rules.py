"""µs per attempt to evaluate a rule set, with rule-engine's own evaluation and with the translated
closures (fraud/compiled.py), on the same attempts, interleaved, in one process:
`python -m fintech_core.fraud.bench_rules [ruleset] [seed]`. A machine-dependent figure for a
report, not a test; both ways are checked to decide every attempt alike first."""

from __future__ import annotations

import dataclasses
import sys
import time

from fintech_core.fraud import backtest, synth
from fintech_core.fraud.model import Features
from fintech_core.fraud.rules import RuleSet, load_ruleset


def per_attempt_us(ruleset: RuleSet, attempts: list[Features]) -> float:
    t0 = time.perf_counter_ns()
    for f in attempts:
        ruleset.evaluate(f)
    return (time.perf_counter_ns() - t0) / 1000 / len(attempts)


def main(name: str = "v1", seed: int = 7, rounds: int = 3) -> None:
    after = load_ruleset(name)
    before = dataclasses.replace(after, rules=tuple(
        dataclasses.replace(r, compiled=None) for r in after.rules))  # the library evaluates
    attempts = [row.features for row in backtest.run(synth.generate(seed), after).rows]
    assert [before.evaluate(f) for f in attempts] == [after.evaluate(f) for f in attempts]
    best = {"rule-engine": float("inf"), "compiled": float("inf")}
    for _ in range(rounds):  # best of N, interleaved: both see the same machine load
        best["rule-engine"] = min(best["rule-engine"], per_attempt_us(before, attempts))
        best["compiled"] = min(best["compiled"], per_attempt_us(after, attempts))
    print(f"{name}: {len(attempts)} attempts, {len(after.rules)} rules; evaluate, µs per attempt"
          f" (best of {rounds}): rule-engine {best['rule-engine']:.1f}, compiled "
          f"{best['compiled']:.1f} ({best['rule-engine'] / best['compiled']:.1f}x)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "v1", int(sys.argv[2]) if len(sys.argv) > 2 else 7)
