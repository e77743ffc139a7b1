"""The phase registry: the one list of increments, in order. Add a phase by appending it here.

`composition(n)` is what `fcl serve --phase n`, the tests and the notebooks run.
"""

from __future__ import annotations

from fintech_core.phase import Composition, Phase, compose
from phases.phase00_monolith import PHASE as PHASE_0
from phases.phase01_ledger import PHASE as PHASE_1
from phases.phase02_events import PHASE as PHASE_2

REGISTRY: tuple[Phase, ...] = (PHASE_0, PHASE_1, PHASE_2)


def latest() -> int:
    return REGISTRY[-1].number


def composition(n: int) -> Composition:
    if not 0 <= n <= latest():
        raise ValueError(f"phase {n} does not exist yet; phases 0..{latest()} are built")
    return compose(REGISTRY[: n + 1])
