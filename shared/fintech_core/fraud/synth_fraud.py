"""The injected fraud patterns of the synthetic history (see synth.py), each attempt labelled."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from fintech_core.fraud.synth_history import START, Customer, History


def inject(h: History, people: list[Customer], days: int) -> None:
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
    day = rng.randint(min(2, days - 1), days - 1)
    return START + timedelta(days=day, seconds=rng.randint(0, 20 * 3600))
