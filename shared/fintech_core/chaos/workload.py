"""Writers and readers, as asyncio tasks on one event loop (light on a shared 2-core machine).

A writer mints one Idempotency-Key per transfer and retries *that key* until it settles: a
definite answer (201, or a 4xx other than 409 in-flight). Timeouts, dropped connections, 409 and
5xx are retried after a capped, jittered backoff; a key that has not settled by its deadline is
logged as such and left for the checker to report. Readers take one-statement balance snapshots
in a loop. Everything is logged; nothing is judged here.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

from fintech_core.chaos.config import ChaosConfig
from fintech_core.chaos.oplog import OpLog
from fintech_core.chaos.targets import SNAPSHOT_SQL, Answer, BankTarget, NaiveTarget
from fintech_core.stack.client_auth import ClientAuthUnavailable


def settles(status: int, code: str | None) -> bool:
    if status == 409 and code == "idempotency-key-in-flight":
        return False
    return status == 201 or 400 <= status < 500


@dataclass
class Workload:
    config: ChaosConfig
    target: BankTarget | NaiveTarget
    accounts: list[str]
    log: OpLog
    run_id: str
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.config.seed)
        self.settled = 0  # keys finished (settled or given up): the clock faults are paced by
        self._ops: Iterator[int] = iter(range(self.config.transfers))
        timeouts, weights = zip(*self.config.timeouts, strict=True)
        self._timeouts, self._weights = list(timeouts), list(weights)

    def _t(self) -> float:
        return time.monotonic()

    async def writer(self, worker: int, http: httpx.AsyncClient) -> None:
        for op in self._ops:  # a shared iterator: each op is taken by exactly one writer
            src, dst = self.rng.sample(self.accounts, 2)
            request = {"source": src, "destination": dst,
                       "amount": self.rng.randint(1, self.config.max_amount)}
            await self._settle(http, worker, op, f"{self.run_id}-{op}", request)
            self.settled += 1

    async def _settle(self, http: httpx.AsyncClient, worker: int, op: int, key: str,
                      request: dict[str, Any]) -> None:
        deadline = self._t() + self.config.key_deadline_s
        attempt = 0
        while True:
            attempt += 1
            timeout = self.rng.choices(self._timeouts, self._weights)[0]
            answer, error = await self._attempt(http, request, key, timeout)
            self.log.write("attempt", worker=worker, op=op, key=key, attempt=attempt,
                           request=request, timeout_s=timeout, **_outcome(answer, error))
            if answer is not None and settles(answer.status, answer.code):
                return
            if not self.target.keyed or self._t() > deadline:
                return  # the naive client has no key: a retry would be a new transfer
            await asyncio.sleep(min(1.0, 0.01 * 2 ** min(attempt, 7)) * self.rng.uniform(.5, 1.5))

    async def _attempt(self, http: httpx.AsyncClient, request: dict[str, Any], key: str,
                       timeout: float) -> tuple[Answer | None, str | None]:
        try:
            return await self.target.send(http, request["source"], request["destination"],
                                          request["amount"], key, timeout), None
        except httpx.TimeoutException:
            return None, "timeout"
        except httpx.TransportError as exc:
            return None, type(exc).__name__
        except ClientAuthUnavailable as exc:
            # Phase 4: the token expired and its renewal met the fault (API killed, database
            # down). Nothing was sent: retried like a dropped connection.
            return None, type(exc).__name__

    async def reader(self, database_url: str) -> None:
        sql = SNAPSHOT_SQL[self.target.name]
        params = ([int(a) for a in self.accounts] if self.target.name == "naive"
                  else self.accounts,)
        while not self.done.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(
                        database_url, autocommit=True, connect_timeout=3,
                        application_name="fincore-chaos-reader") as conn:
                    while not self.done.is_set():
                        row = await (await conn.execute(sql, params)).fetchone()
                        assert row is not None
                        self.log.write("snapshot", t=time.time(), sum=_int(row[0]),
                                       min=_int(row[1]), count=row[2])
                        await asyncio.sleep(self.config.reader_pause_s)
            except psycopg.OperationalError:
                await asyncio.sleep(0.5)  # the database restarts under a fault: read again after


def _int(v: Any) -> Any:
    """Bank balances are integers; the naive baseline's floats are kept as they are."""
    if v is None:
        return None
    return int(v) if float(v).is_integer() else float(v)


def _outcome(answer: Answer | None, error: str | None) -> dict[str, Any]:
    if answer is None:
        return {"outcome": "timeout" if error == "timeout" else "transport-error", "error": error}
    return {"outcome": "response", "status": answer.status, "code": answer.code,
            "transfer_id": answer.transfer_id, "replayed": answer.replayed}
