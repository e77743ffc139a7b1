"""The knobs of one chaos run. Defaults are the CI shape; `make chaos` asks for more."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Client timeouts in seconds with their weights. The short ones are shorter than the server's
# latency on purpose: the client gives up while the server may still commit, which is exactly
# the "did the money move?" case. The long one lets every key settle eventually.
DEFAULT_TIMEOUTS: tuple[tuple[float, int], ...] = ((0.003, 1), (0.02, 1), (0.12, 2), (10.0, 6))


@dataclass
class ChaosConfig:
    phase: int = 0
    target: str = "bank"  # "bank" (the real API) or "naive" (the deliberately broken baseline)
    transfers: int = 1000  # keys minted; each is retried until it settles
    workers: int = 12
    readers: int = 2
    accounts: int = 16
    initial_balance: int = 10_000  # minor units deposited in each account before the run
    max_amount: int = 4_000  # amounts are uniform in 1..max_amount: some overdraw, get 422
    timeouts: tuple[tuple[float, int], ...] = DEFAULT_TIMEOUTS
    faults: tuple[str, ...] = ("api-kill", "pg-terminate")
    # Faults are paced by progress, not by the clock: one every ~N settled keys (jittered), so a
    # fast machine and a loaded one see the same number of faults per run.
    fault_every: int = 80
    # 0: faults keep coming as long as the keys do. N: at most N rounds (a round injects every
    # kind once, in a seeded order), so a CI run gets every kind exactly N times when its keys
    # pace that many, and no extra fault whose cost proves nothing new.
    fault_rounds: int = 0
    key_deadline_s: float = 120.0  # a key not settled by then is reported, never dropped
    reader_pause_s: float = 0.02
    seed: int = 7
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)
