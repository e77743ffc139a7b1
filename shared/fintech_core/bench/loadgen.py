"""A load generator that is not the bottleneck: raw asyncio HTTP/1.1 with keep-alive.

httpx spends ~0.3 ms of CPU per request in Python; on a 2-core laptop that shares its cores with
the API and PostgreSQL, that would be measured as "the API is slow". This client pre-builds
request bytes, parses only the status line and Content-Length, and runs in its own process
(`python -m fintech_core.bench.loadgen`), so its cost is small and measured (see `ceiling`).

By default each connection is one closed-loop client: it sends a request, waits for the answer,
sends the next. `--rate N` switches to open loop (`bench/pacing.py`): N requests/s on a fixed
schedule, latency measured from each request's scheduled time. Every transfer carries a fresh
Idempotency-Key, so every request is new work.

From phase 4 on every request carries `Authorization: Bearer <token>`: one token for the whole
run, read from the environment variable FCL_LOADGEN_TOKEN (bench/auth.py sets it, checked to
outlive the run; never an argument, which `ps` shows to every local user). Without it, no header
(phases 0..3). An expired or refused token is not retried here: its 401s are counted in
`statuses`, and the bench's checks (one transfer per 201, the 201 count) show the damage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Workload:
    kind: str  # uniform | hot | mixed | health
    accounts: list[str]
    currency: str = "EUR"
    amount: int = 1
    token: str | None = None  # a bearer token for every request (phase 4 on)

    def request(self, rng: random.Random, host: str) -> bytes:
        auth = f"Authorization: Bearer {self.token}\r\n" if self.token else ""
        if self.kind == "health" or (self.kind == "mixed" and rng.random() < 0.5):
            path = "/health" if self.kind == "health" else f"/accounts/{rng.choice(self.accounts)}"
            return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n".encode()
        if self.kind == "hot":  # every transfer credits the same account: one hot row
            dst = self.accounts[0]
            src = self.accounts[rng.randrange(1, len(self.accounts))]
        else:
            src, dst = rng.sample(self.accounts, 2)
        body = (f'{{"source_account_id":"{src}","destination_account_id":"{dst}",'
                f'"amount":{self.amount},"currency":"{self.currency}"}}').encode()
        head = (f"POST /transfers HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"{auth}Idempotency-Key: {uuid.uuid4().hex}\r\nContent-Length: {len(body)}\r\n\r\n")
        return head.encode() + body


@dataclass
class Result:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0  # connection-level failures


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


class Connection:
    """One keep-alive HTTP/1.1 connection. A failed exchange is counted in `result.errors` and
    the connection is opened again, so one dropped socket does not end a client."""

    def __init__(self, url: str) -> None:
        self.parts = urlsplit(url)

    async def open(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection(self.parts.hostname,
                                                                 self.parts.port)
        return self

    async def exchange(self, request: bytes, result: Result, since: float) -> None:
        """Send, read the answer, record its status and its latency counted from `since`."""
        try:
            self.writer.write(request)
            status = await _read_response(self.reader)
        except (ConnectionError, asyncio.IncompleteReadError):
            result.errors += 1
            self.close()
            await self.open()
            return
        result.latencies_ms.append((time.perf_counter() - since) * 1000)
        result.statuses[status] += 1
        result.requests += 1

    def close(self) -> None:
        self.writer.close()


async def _client(url: str, workload: Workload, deadline: float, result: Result, seed: int) -> None:
    rng = random.Random(seed)
    conn = await Connection(url).open()
    try:
        while time.perf_counter() < deadline:
            request = workload.request(rng, conn.parts.netloc)
            await conn.exchange(request, result, since=time.perf_counter())
    finally:
        conn.close()


async def run(url: str, workload: Workload, clients: int, seconds: float, seed: int = 1) -> dict:  # type: ignore[type-arg]
    result = Result()
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    await asyncio.gather(*(_client(url, workload, deadline, result, seed * 1000 + i)
                           for i in range(clients)))
    elapsed = time.perf_counter() - started
    return summarise(result, elapsed, clients)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def summarise(result: Result, elapsed: float, clients: int) -> dict:  # type: ignore[type-arg]
    lat = sorted(result.latencies_ms)
    return {
        "clients": clients, "seconds": round(elapsed, 3), "requests": result.requests,
        "per_second": round(result.requests / elapsed, 1) if elapsed else 0.0,
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "connection_errors": result.errors,
        "latency_ms": {"p50": round(percentile(lat, 0.50), 2), "p95": round(percentile(lat, 0.95), 2),
                       "p99": round(percentile(lat, 0.99), 2), "max": round(lat[-1], 2) if lat else 0.0},
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--url", required=True)
    p.add_argument("--workload", default="uniform", choices=["uniform", "hot", "mixed", "health"])
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--accounts", default="", help="comma-separated account ids")
    p.add_argument("--currency", default="EUR")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rate", type=float, default=None,
                   help="open loop: requests/s on a fixed schedule, spread over --clients "
                        "connections (default: closed loop)")
    a = p.parse_args(argv)
    workload = Workload(a.workload, [x for x in a.accounts.split(",") if x], a.currency,
                        token=os.environ.get("FCL_LOADGEN_TOKEN") or None)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        pass
    if a.rate is None:
        out = asyncio.run(run(a.url, workload, a.clients, a.seconds, a.seed))
    else:
        from fintech_core.bench.pacing import run_rate

        out = asyncio.run(run_rate(a.url, workload, a.rate, a.seconds, a.clients, a.seed))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
