"""The fault injector's pacing: faults come every ~fault_every settled keys, every kind once per
round, and `fault_rounds` caps a run at that many rounds, so a CI run asserting "every kind
exactly N times" cannot pass with fewer, nor pay for more."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from fintech_core.chaos.config import ChaosConfig
from fintech_core.chaos.runner import _inject


@dataclass
class Recorded:
    name: str
    seen: list[str]

    def inject(self, env: object, rng: random.Random) -> str:
        self.seen.append(self.name)
        return "done"


@dataclass
class Log:
    records: list[dict[str, Any]] = field(default_factory=list)

    def write(self, kind: str, **fields: Any) -> None:
        self.records.append({"kind": kind, **fields})


@dataclass
class Keys:
    """A workload whose keys have all settled: every fault they pace is due at once."""

    config: ChaosConfig
    settled: int
    log: Log = field(default_factory=Log)
    done: asyncio.Event = field(default_factory=asyncio.Event)


def injected(config: ChaosConfig, kinds: int = 4) -> Counter[str]:
    seen: list[str] = []
    faults = [Recorded(f"f{i}", seen) for i in range(kinds)]
    work = Keys(config, settled=config.transfers)
    work.done.set()
    asyncio.run(_inject(faults, None, work))  # type: ignore[arg-type]
    assert [r["fault"] for r in work.log.records] == seen
    return Counter(seen)


def test_without_a_cap_the_keys_pace_the_faults() -> None:
    counts = injected(ChaosConfig(transfers=1000, fault_every=80))
    assert sum(counts.values()) > 8 and min(counts.values()) >= 2, counts


@pytest.mark.parametrize("rounds", [1, 2, 3])
def test_rounds_cap_the_run_at_every_kind_exactly_n_times(rounds: int) -> None:
    counts = injected(ChaosConfig(transfers=1000, fault_every=80, fault_rounds=rounds))
    assert counts == dict.fromkeys(("f0", "f1", "f2", "f3"), rounds)


def test_a_cap_the_keys_do_not_reach_leaves_the_run_short() -> None:
    """The cap never adds faults: too few keys give too few, and the CI tests' equality fails."""
    counts = injected(ChaosConfig(transfers=300, fault_every=80, fault_rounds=2))
    assert sum(counts.values()) < 8, counts
