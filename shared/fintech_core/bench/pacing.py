"""Open-loop load: requests at a fixed arrival rate, latency from the time each was *scheduled*.

A closed-loop client (the default in `loadgen`) sends its next request only after the previous
answer, so when the server stalls the client stalls with it and never records the requests it
would have sent meanwhile: coordinated omission, which hides exactly the slow moments. Here
request i is due at start + i / rate whatever happened before; connections take the next due
slot when they are free, and a slot that waits for a connection waits on the clock. So a stall
shows up as latency for every request scheduled during it, as a real arrival process would see.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

from fintech_core.bench.loadgen import Connection, Result, Workload, percentile, summarise


@dataclass
class Schedule:
    """Slot i is due at `start + i / rate`; slots are handed out once each, in order."""

    rate: float
    count: int
    start: float
    _next: int = 0

    def due(self, i: int) -> float:
        return self.start + i / self.rate

    def take(self) -> int | None:
        if self._next >= self.count:
            return None
        i, self._next = self._next, self._next + 1
        return i


@dataclass
class Pacing:
    """What the client itself did: how late it sent each request after its due time. A large
    send lag means the load generator (not the server) fell behind; it is part of the latency."""

    send_lag_ms: list[float] = field(default_factory=list)
    unsent: int = 0  # slots still unsent when the give-up time passed


async def _paced_client(url: str, workload: Workload, schedule: Schedule, give_up: float,
                        result: Result, pacing: Pacing, seed: int) -> None:
    rng = random.Random(seed)
    conn = await Connection(url).open()
    try:
        while (i := schedule.take()) is not None:
            due = schedule.due(i)
            req = workload.request(rng, conn.parts.netloc)  # built before the due time, off the clock
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            sent = time.perf_counter()
            if sent > give_up:
                pacing.unsent += 1
                continue
            pacing.send_lag_ms.append((sent - due) * 1000)
            # Latency from the due time, not the send time: a stall is not hidden by the client
            # slowing down with it (coordinated omission).
            await conn.exchange(req, result, since=due)
    finally:
        conn.close()


async def run_rate(url: str, workload: Workload, rate: float, seconds: float, connections: int,
                   seed: int = 1, grace: float | None = None) -> dict:  # type: ignore[type-arg]
    """`rate * seconds` requests over `connections` keep-alive connections. Slots not sent by
    `seconds + grace` are counted as unsent (the offered load was not delivered)."""
    if rate <= 0:
        raise ValueError("rate must be > 0")
    result, pacing = Result(), Pacing()
    start = time.perf_counter() + 0.05  # every connection is open before slot 0 is due
    schedule = Schedule(rate, int(rate * seconds), start)
    give_up = start + seconds + (max(5.0, seconds) if grace is None else grace)
    await asyncio.gather(*(_paced_client(url, workload, schedule, give_up, result, pacing,
                                         seed * 1000 + c) for c in range(connections)))
    elapsed = time.perf_counter() - start
    out = summarise(result, elapsed, connections)
    lag = sorted(pacing.send_lag_ms)
    out.update({
        "mode": "open-loop", "offered_per_second": rate, "scheduled": schedule.count,
        "unsent": pacing.unsent,
        "send_lag_ms": {"p50": round(percentile(lag, 0.50), 2),
                        "p99": round(percentile(lag, 0.99), 2),
                        "max": round(lag[-1], 2) if lag else 0.0},
    })
    return out
