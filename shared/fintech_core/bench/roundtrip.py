"""What one statement costs the client: CPU and wall time per round trip, per driver mode.

Why it matters: a transfer is a handful of statements, and on a small machine each statement's
client-side work (a socket write and read, an event-loop wake-up, psycopg's Python per query)
costs about as much CPU as PostgreSQL spends running it. This measures that floor on your
machine, against the lab's PostgreSQL, so the figures in bench/README.md can be reproduced:

    python -m fintech_core.bench.roundtrip [--url postgresql://...] [-n 3000]

Figures, not assertions: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import uvloop

from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab

Body = Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]


def _per_call(n: int, started: tuple[float, float]) -> dict[str, float]:
    cpu, wall = time.process_time() - started[0], time.perf_counter() - started[1]
    return {"cpu_us": round(1e6 * cpu / n, 1), "wall_us": round(1e6 * wall / n, 1)}


def sync_select(url: str, n: int) -> dict[str, float]:
    with psycopg.connect(url) as conn:
        for _ in range(50):
            conn.execute("SELECT 1")
        started = time.process_time(), time.perf_counter()
        for _ in range(n):
            conn.execute("SELECT 1")
        return _per_call(n, started)


async def _async_loop(url: str, n: int, body: Body) -> dict[str, float]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        for _ in range(50):
            await body(conn)
        started = time.process_time(), time.perf_counter()
        for _ in range(n):
            await body(conn)
        return _per_call(n, started)


async def _select(conn: psycopg.AsyncConnection[Any]) -> None:
    await conn.execute("SELECT 1")


async def _five_statements(conn: psycopg.AsyncConnection[Any]) -> None:
    # BEGIN, five statements, COMMIT: seven round trips, like a transfer written naively.
    for i in range(5):
        await conn.execute("SELECT %s::int", (i,))
    await conn.commit()


async def _one_statement(conn: psycopg.AsyncConnection[Any]) -> None:
    # BEGIN, the same work as one statement, COMMIT: three round trips.
    await conn.execute("SELECT %s::int, %s::int, %s::int, %s::int, %s::int", (0, 1, 2, 3, 4))
    await conn.commit()


def measure(url: str, n: int) -> dict[str, dict[str, float]]:
    return {
        "SELECT 1, sync psycopg": sync_select(url, n),
        "SELECT 1, async psycopg on asyncio": asyncio.run(_async_loop(url, n, _select)),
        "SELECT 1, async psycopg on uvloop (as the API runs)": uvloop.run(
            _async_loop(url, n, _select)),
        "transaction of 5 statements (7 round trips), uvloop": uvloop.run(
            _async_loop(url, n // 5, _five_statements)),
        "the same as 1 statement (3 round trips), uvloop": uvloop.run(
            _async_loop(url, n // 5, _one_statement)),
    }


def main() -> None:
    p = argparse.ArgumentParser(description="client CPU and wall time per PostgreSQL round trip")
    p.add_argument("--url", help="PostgreSQL URL (default: the lab's, started if needed)")
    p.add_argument("-n", type=int, default=3000, help="statements per measurement")
    a = p.parse_args()
    if a.url is not None:
        print(json.dumps(measure(a.url, a.n), indent=2))
        return
    lab = Lab(Settings())
    started = [c for c in lab.embedded() if not c.health().ok]  # stopped again at the end
    lab.start_servers()
    try:
        print(json.dumps(measure(lab.database_url(), a.n), indent=2))
    finally:
        for component in reversed(started):
            component.stop()


if __name__ == "__main__":
    main()
