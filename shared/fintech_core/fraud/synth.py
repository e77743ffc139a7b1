"""A labelled synthetic history, in the spirit of PaySim: seeded, so every run is identical.

Normal customers: a salary in, then bills and payments to a handful of known beneficiaries at
amounts lognormal around the customer's own median (integer minor units), an occasional
withdrawal, a new payee now and then, a rare big purchase, a rare busy session of several
transfers in minutes, some shared devices (households) and shared IPs (carrier NAT).
Injected fraud, each attempt labelled with its pattern (the label marks the attempt a fraud
team wants stopped: the credits into a mule are money arriving, not an attempt to stop):
- "ato-burst": account takeover, a new device and IP paying several fresh accounts within minutes
- "mule": a fresh account passes on most of what came in within the hour to a new beneficiary
- "structuring": many small withdrawals within an hour
- "device-farm": one device moving money out of many fresh accounts to one collector
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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


class _History:
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


def generate(seed: int = 7, customers: int = 300, days: int = 7) -> list[Labelled]:
    h = _History(seed)
    rng = h.rng
    billers = [h.uid() for _ in range(40)]
    people: list[Customer] = []
    for i in range(customers):
        ip = "100.64.0.1" if rng.random() < 0.15 else f"198.51.100.{i % 200}"
        device = f"dev-{i - 1}" if i % 25 == 1 else f"dev-{i}"  # some households share one
        people.append(Customer(i, h.uid(), int(rng.lognormvariate(math.log(3000), 0.8)),
                               device, ip))
    for c in people:
        c.payees = rng.sample(billers, rng.randint(1, 3)) + [
            p.account for p in rng.sample(people, rng.randint(1, 3)) if p is not c]

    def moment(day: int, lo_h: int = 7, hi_h: int = 23) -> datetime:
        return START + timedelta(days=day, seconds=rng.randint(lo_h * 3600, hi_h * 3600))

    for c in people:
        who = f"customer-{c.n}"
        for day in range(days):
            if day % 7 == 0:
                h.add(moment(day, 6, 9), None, c.account, c.median * rng.randint(25, 40), who)
            for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
                new = rng.random() < 0.04
                dst = rng.choice(billers + [p.account for p in people]) if new else \
                    rng.choice(c.payees)
                if new and dst not in c.payees and dst != c.account:
                    c.payees.append(dst)
                amount = h.amount(c) * (rng.randint(3, 8) if rng.random() < 0.02 else 1)
                if dst != c.account:
                    h.add(moment(day), c.account, dst, amount, who, c.device, c.ip)
            if rng.random() < 0.2:
                h.add(moment(day), c.account, None, h.amount(c, 0.3) * 2, who, c.device, c.ip)
            if rng.random() < 0.03:  # a busy session: a few payments within minutes
                t = moment(day)
                for k in range(rng.randint(3, 6)):
                    h.add(t + timedelta(seconds=40 * k), c.account, rng.choice(c.payees),
                          h.amount(c), who, c.device, c.ip)
    _inject(h, people, days)
    return [item for item, _ in sorted(h.out, key=lambda x: (x[0].attempt.at, x[1]))]


def _inject(h: _History, people: list[Customer], days: int) -> None:
    rng, n = h.rng, len(people)
    for k, c in enumerate(rng.sample(people, max(1, n // 30))):  # account takeover
        t, dev, ip = h_time(rng, days), f"ato-dev-{k}", f"203.0.113.{k}"
        scripted = rng.random() < 0.3  # a bot drains faster and longer than a person
        for _ in range(rng.randint(8, 14) if scripted else rng.randint(3, 6)):
            h.add(t, c.account, h.uid(), h.amount(c) * rng.randint(4, 10), f"customer-{c.n}",
                  dev, ip, "ato-burst")
            t += timedelta(seconds=rng.randint(20, 50) if scripted else rng.randint(40, 240))
    for k in range(max(1, n // 40)):  # money mules: fresh accounts, in then out
        mule, t = h.uid(), h_time(rng, days)
        total = 0
        for _ in range(rng.randint(1, 3)):
            part = rng.randint(15_000, 80_000)
            h.add(t, None, mule, part, f"mule-{k}")
            total, t = total + part, t + timedelta(minutes=rng.randint(2, 15))
        legs = rng.choice([1, 2])
        out = total * rng.randint(85, 98) // 100
        collector = h.uid()
        for _ in range(legs):
            t += timedelta(minutes=rng.randint(3, 20))
            h.add(t, mule, collector, out // legs, f"mule-{k}", f"mule-dev-{k}",
                  f"192.0.2.{k}", "mule")
    for c in rng.sample(people, max(1, n // 40)):  # structuring: many small payouts
        t = h_time(rng, days)
        for _ in range(rng.randint(5, 9)):
            t += timedelta(minutes=rng.randint(3, 9))
            h.add(t, c.account, None, h.amount(c, 0.3), f"customer-{c.n}", c.device, c.ip,
                  "structuring")
    for k in range(max(1, n // 60)):  # device farm: one device, many fresh accounts
        t, collector = h_time(rng, days), h.uid()
        for j in range(rng.randint(6, 10)):
            acct = h.uid()
            h.add(t - timedelta(hours=3), None, acct, rng.randint(10_000, 40_000), f"farm-{k}-{j}")
            h.add(t, acct, collector, rng.randint(8_000, 9_900), f"farm-{k}-{j}", f"farm-dev-{k}",
                  f"192.0.2.{100 + k}", "device-farm")
            t += timedelta(minutes=rng.randint(2, 8))


def h_time(rng: random.Random, days: int) -> datetime:
    """A moment for an injected pattern: after two days, so victims have a history."""
    return START + timedelta(days=rng.randint(min(2, days - 1), days - 1), seconds=rng.randint(0, 20 * 3600))
