"""The synthetic history's building blocks: a labelled attempt, a customer, and the seeded
builder every attempt goes through (one random stream: same seed, same history)."""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from fintech_core.fraud.model import Attempt

START = datetime(2026, 3, 2, tzinfo=UTC)
PATTERNS = ("ato-burst", "mule", "structuring", "device-farm")


class Labelled(NamedTuple):
    attempt: Attempt
    is_fraud: bool
    pattern: str  # "" for a normal attempt, else one of PATTERNS


@dataclass
class Customer:
    n: int
    account: uuid.UUID
    median: int  # the customer's usual amount, minor units
    device: str
    ip: str
    payees: list[uuid.UUID] = field(default_factory=list)


class History:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.out: list[tuple[Labelled, int]] = []

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def add(self, at: datetime, src: uuid.UUID | None, dst: uuid.UUID | None, amount: int,
            who: str, device: str | None = None, ip: str | None = None, pattern: str = "") -> None:
        kind = "DEPOSIT" if src is None else "WITHDRAWAL" if dst is None else "TRANSFER"
        a = Attempt(self.uid(), kind, src, dst, max(100, amount), "EUR", at, who, ip, device)
        self.out.append((Labelled(a, bool(pattern), pattern), len(self.out)))

    def amount(self, c: Customer, spread: float = 0.5) -> int:
        return int(self.rng.lognormvariate(math.log(c.median), spread))
