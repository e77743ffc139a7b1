"""The load generator's open-loop mode against a real (tiny) HTTP server on loopback.

Two properties make its figures honest: requests arrive at the offered rate however fast the
server answers (it is not a closed loop in disguise), and when the server is slower than the
rate, latency is measured from each request's *scheduled* time, so the queue that builds up is
seen (no coordinated omission). No database: the server answers every request itself.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time

import pytest

from fintech_core.bench.loadgen import Workload
from fintech_core.bench.pacing import run_rate

pytestmark = pytest.mark.integration
TRANSFERS = Workload("uniform", ["acc-a", "acc-b", "acc-c"])


async def _measure(rate: float, seconds: float, connections: int, service_s: float
                   ) -> tuple[dict, list[float]]:  # type: ignore[type-arg]
    """Run the open-loop client against a server that takes `service_s` per request (one at a
    time per connection, like a keep-alive HTTP/1.1 server); return its summary and the times
    the requests arrived at the server."""
    arrivals: list[float] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readline():
                length = 0
                while (header := await reader.readline()) not in (b"\r\n", b""):
                    if header.lower().startswith(b"content-length:"):
                        length = int(header[15:])
                await reader.readexactly(length)
                arrivals.append(time.perf_counter())
                await asyncio.sleep(service_s)
                writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}")
                await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        out = await run_rate(f"http://127.0.0.1:{port}", TRANSFERS, rate, seconds, connections)
    return out, arrivals


def test_requests_arrive_at_the_offered_rate_not_as_fast_as_possible() -> None:
    out, arrivals = asyncio.run(_measure(rate=200, seconds=1.0, connections=4, service_s=0.0))
    assert out["scheduled"] == out["requests"] == len(arrivals) == 200
    assert out["statuses"] == {"201": 200} and out["unsent"] == 0
    span = arrivals[-1] - arrivals[0]  # 199 gaps of 5 ms: 0.995 s
    assert 0.9 < span < 1.3, span
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert 0.003 < statistics.median(gaps) < 0.007, statistics.median(gaps)
    # A closed loop on 4 connections against an instant server would send thousands in 1 s.
    assert max(sum(1 for t in arrivals if s <= t < s + 0.1) for s in arrivals) <= 40
    assert out["per_second"] == pytest.approx(200, rel=0.2)
    assert out["latency_ms"]["p50"] < 50


def test_latency_counts_from_the_scheduled_time_when_the_server_falls_behind() -> None:
    """20 requests/s offered, one connection, 100 ms per request: the server does 10/s. A
    closed loop would report 100 ms for every request; request i is really answered about
    (i + 1) * 100 ms after start while it was due at i * 50 ms, so the last one waits ~1 s."""
    out, arrivals = asyncio.run(_measure(rate=20, seconds=1.0, connections=1, service_s=0.1))
    assert out["requests"] == len(arrivals) == 20
    assert out["latency_ms"]["max"] > 800, out["latency_ms"]
    assert out["latency_ms"]["p50"] > 400, out["latency_ms"]
    assert out["send_lag_ms"]["max"] > 700, out["send_lag_ms"]  # queued behind the busy link
    assert out["per_second"] == pytest.approx(10, rel=0.25)  # achieved, not offered
    assert out["offered_per_second"] == 20
