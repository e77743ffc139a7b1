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
from datetime import datetime, timedelta

from fintech_core.fraud.synth_fraud import inject
from fintech_core.fraud.synth_history import PATTERNS, START, Customer, History, Labelled

__all__ = ["PATTERNS", "Labelled", "generate"]


def generate(seed: int = 7, customers: int = 300, days: int = 7) -> list[Labelled]:
    h = History(seed)
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
    inject(h, people, days)
    return [item for item, _ in sorted(h.out, key=lambda x: (x[0].attempt.at, x[1]))]
