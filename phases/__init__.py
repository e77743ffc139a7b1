"""The phase registry: the one list of increments, in order. Add a phase by appending it here.

This package sits above the core: it imports `fintech_core` and hands it the registry (through
phases/entrypoints.py); the core never imports it back. `composition(n)` is what
`fcl serve --phase n`, the tests and the notebooks run.
"""

from __future__ import annotations

from fintech_core.phase import Composition, Entrypoints, Registry
from phases.phase00_monolith import PHASE as PHASE_0
from phases.phase01_ledger import PHASE as PHASE_1
from phases.phase02_events import PHASE as PHASE_2
from phases.phase03_payments import PHASE as PHASE_3
from phases.phase04_auth import PHASE as PHASE_4
from phases.phase05_fraud import PHASE as PHASE_5

REGISTRY = Registry(
    phases=(PHASE_0, PHASE_1, PHASE_2, PHASE_3, PHASE_4, PHASE_5),
    entrypoints=Entrypoints(cli_module="phases.entrypoints",
                            app_factory="phases.entrypoints:create_app"),
)


def latest() -> int:
    return REGISTRY.latest()


def composition(n: int | None = None) -> Composition:
    """Phases 0..n composed (the latest built when n is None)."""
    return REGISTRY.composition(REGISTRY.latest() if n is None else n)
