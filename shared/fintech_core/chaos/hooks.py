"""Checks the phases add to a chaos run, and faults that exist only when their code does.

- Invariant hooks: a phase declares `chaos_hooks` (phase 1: the ledger's own verify, in
  ledger/chaos.py; phase 2: the events' invariants, in events/chaos.py); each runs after the
  workload, in declaration order, against the run's ChaosEnv and answers ok, violation or
  skipped, with optional figures for the results. Never faked.
- Network faults: used when `fintech_core.drills.proxy` is importable and offers `FaultProxy`
  (upstream host/port, `start()`, `url`, `arm(mode, times=...)`, `stop()`, module `MODES`).
"""

from __future__ import annotations

import importlib
import importlib.util
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fintech_core.chaos.env import ChaosEnv

PROXY_MODULE = "fintech_core.drills.proxy"


@dataclass(frozen=True)
class HookResult:
    name: str
    status: str  # "ok", "violation" or "skipped"
    detail: str
    figures: dict[str, Any] = field(default_factory=dict)  # measured numbers, for the results


ChaosHook = Callable[["ChaosEnv"], HookResult]


class NetworkFaults:
    """The drill proxy between some writers and the API; each injection breaks a few of the
    next connections in one of the proxy's modes."""

    def __init__(self, proxy: Any, modes: tuple[str, ...]) -> None:
        self.proxy, self.modes = proxy, modes

    @staticmethod
    def missing() -> str:
        return f"{PROXY_MODULE} is not in this tree"

    @classmethod
    def open(cls, host: str, port: int) -> tuple[NetworkFaults | None, str]:
        try:
            if importlib.util.find_spec(PROXY_MODULE) is None:
                return None, cls.missing()
        except ModuleNotFoundError:
            return None, cls.missing()
        module = importlib.import_module(PROXY_MODULE)
        try:
            proxy = module.FaultProxy(host, port).start()
            modes = tuple(m for m in module.MODES if m != "pass")
            return cls(proxy, modes), f"proxy at {proxy.url}"
        except (AttributeError, TypeError) as exc:
            return None, f"{PROXY_MODULE} has another interface ({exc})"

    @property
    def url(self) -> str:
        return str(self.proxy.url)

    def inject(self, rng: random.Random) -> str:
        mode, times = rng.choice(self.modes), rng.randint(2, 6)
        self.proxy.arm(mode, delay_ms=rng.choice((50, 300, 1500)), cut_bytes=rng.randint(0, 64),
                       times=times)
        return f"next {times} proxied connections: {mode}"

    def close(self) -> None:
        self.proxy.stop()
