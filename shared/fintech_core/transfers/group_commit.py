"""Group commit: the transfers that arrive while a batch runs wait, then run together in one
transaction (one claim of their keys, one lock statement, one write statement, one COMMIT).

Why: on the request path a transfer costs mostly per *statement* (bench/README.md): a batch of
N pays for about five statements instead of 5N, and a hot account's row is locked once per batch
instead of once per transfer (TigerBeetle's answer to the hot-account test).

What is guaranteed, per transfer, as if the batch's transfers had run one by one in arrival order:
- Every pipeline step runs for each transfer, in order, on a snapshot its predecessors in the
  batch have already changed (transfers/batch.py); a refused transfer is a FAILED transfer or a
  problem response of its own, never a rollback of its neighbours.
- Idempotency as on the single path: a stored key replays, another request's key is 422, a key
  held by another transaction is 409; the same key twice in one batch runs once, the second
  answered as a retry that arrived just after the first committed (a replay, or 422).
- Nobody is answered before COMMIT returned, so a reply always describes a durable fate. A batch
  that fails as a whole (a database error, a lost connection, COMMIT's outcome unknown) is split
  in two and each half run again, down to one transfer, which takes the single-transaction path
  (idempotency/runner.py); the keys commit with the effects, so a half that did commit replays.
- Drill fault points (faults.py): `transfer.before_commit` is hit once per transaction, so
  once per batch, just before its COMMIT: an armed error fails every transfer of the batch
  (none commits, each is answered the error), a crash takes the whole batch down uncommitted,
  a delay holds all of it, and `times` counts batches. A batch of one is a lone request on the
  single-transaction path, hit exactly as per request. `transfer.after_commit` is hit per
  request, after its batch committed. Drills that need one transfer to fail on its own pin
  one transaction per request (drills/drill.py PER_REQUEST, FINCORE_GROUP_COMMIT=false).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fintech_core.domain.errors import (
    DomainError,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
)
from fintech_core.faults import FaultPoints, InjectedFault
from fintech_core.idempotency.http import Operation
from fintech_core.idempotency.ports import InFlight, StoredKey, StoredResponse
from fintech_core.idempotency.runner import run_idempotently
from fintech_core.service.ports import UnitOfWork, UnitOfWorkFactory
from fintech_core.service.retry import with_retries
from fintech_core.transfers.batch import BatchUnitOfWork, BatchWrapper, LocksCollected

Outcome = tuple[StoredResponse, bool] | BaseException  # (response, replayed) or what to raise


@dataclass
class Request:
    principal: str
    key: str
    fingerprint: str
    operation: Operation
    future: asyncio.Future[tuple[StoredResponse, bool]] = field(repr=False)


class GroupCommit:
    """One per API worker process; `submit` is what a money-moving route awaits."""

    def __init__(self, uow_factory: UnitOfWorkFactory, wrappers: dict[str, BatchWrapper],
                 faults: FaultPoints, max_batch: int = 64, max_wait_us: int = 0) -> None:
        self.uow_factory, self.wrappers, self.faults = uow_factory, wrappers, faults
        self.max_batch, self.max_wait_us = max_batch, max_wait_us
        self._queue: list[Request] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # how many transactions ran, for tests and the bench
        self.transfers = 0

    async def submit(self, principal: str, key: str, fingerprint: str,
                     operation: Operation) -> tuple[StoredResponse, bool]:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._wake is None:
            # Also when the batch task ended: `_settle` never raises, so only a cancellation
            # ends it, and the requests queued meanwhile must still be served by a new one.
            self._wake = self._wake or asyncio.Event()
            self._task = loop.create_task(self._run_forever())
        request = Request(principal, key, fingerprint, operation, loop.create_future())
        self._queue.append(request)
        self._wake.set()
        return await request.future

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run_forever(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            if self.max_wait_us and len(self._queue) < self.max_batch:
                await asyncio.sleep(timedelta(microseconds=self.max_wait_us).total_seconds())
            batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
            if not self._queue:
                self._wake.clear()
            await self._settle(batch)

    async def _settle(self, batch: list[Request]) -> None:
        """Run `batch` and answer every request in it; never raises (but for cancellation)."""
        try:
            outcomes = await self.run(batch)
        except Exception as exc:  # answered in the request's own handler
            outcomes = [exc] * len(batch)
        for request, outcome in zip(batch, outcomes, strict=True):
            if request.future.done():  # the client went away (its handler was cancelled)
                continue
            if isinstance(outcome, BaseException):
                request.future.set_exception(outcome)
            else:
                request.future.set_result(outcome)

    async def run(self, batch: list[Request]) -> list[Outcome]:
        if len(batch) == 1:
            return [await self._alone(batch[0])]
        try:
            return await with_retries(lambda: self._attempt(batch))
        except InjectedFault as fault:
            return [fault] * len(batch)
        except Exception:  # split: the failing transfer is found, the rest commit
            half = len(batch) // 2
            return [*await self.run(batch[:half]), *await self.run(batch[half:])]

    async def _alone(self, request: Request) -> Outcome:
        async def run(uow: UnitOfWork) -> StoredResponse:
            response = await request.operation(uow)
            await self.faults.hit("transfer.before_commit")
            return response

        try:
            return await run_idempotently(self.uow_factory, request.principal, request.key,
                                          request.fingerprint, run)
        except Exception as exc:  # answered in the request's own handler
            return exc

    async def _attempt(self, batch: list[Request]) -> list[Outcome]:
        self.batches += 1
        self.transfers += len(batch)
        async with self.uow_factory() as raw:
            conn = getattr(raw, "conn", None)
            if conn is not None:
                conn.merge_rows = True  # one INSERT per table for the whole batch
            uow = BatchUnitOfWork(raw, self.wrappers)
            keys = list(dict.fromkeys((r.principal, r.key) for r in batch))
            claims = dict(zip(keys, await raw.idempotency.claim_many(keys), strict=True))
            fresh = [r for r in batch if claims[(r.principal, r.key)] is None]
            for r in fresh:  # the collecting pass: what each transfer will lock
                try:
                    await r.operation(uow)  # type: ignore[arg-type]
                    raise RuntimeError("a transfer pipeline ran without taking a lock")
                except (LocksCollected, DomainError):
                    pass
            await uow.lock_collected()
            outcomes = [await self._one(raw, uow, claims, r) for r in batch]
            await self.faults.hit("transfer.before_commit")
            await raw.commit()
        return outcomes

    async def _one(self, raw: UnitOfWork, uow: BatchUnitOfWork, claims: dict[Any, Any],
                   r: Request) -> Outcome:
        """One transfer, in arrival order, exactly as if it ran alone right after the previous
        one committed: a key settled earlier in this batch is stored by now, so it replays."""
        claim = claims[(r.principal, r.key)]
        if isinstance(claim, InFlight):
            return _in_flight()
        if claim is not None:
            return (claim.response, True) if claim.fingerprint == r.fingerprint else _reused()
        try:
            response = await r.operation(uow)  # type: ignore[arg-type]
        except DomainError as refused:  # a check refused it, so it wrote nothing; key unused
            return refused
        await raw.idempotency.save(r.principal, r.key, r.fingerprint, response)
        claims[(r.principal, r.key)] = StoredKey(r.fingerprint, response)
        return response, False


def _reused() -> IdempotencyKeyReused:
    return IdempotencyKeyReused("this Idempotency-Key was already used with a different "
                                "request; mint a new key for a new request")


def _in_flight() -> IdempotencyKeyInFlight:
    return IdempotencyKeyInFlight("a request with this Idempotency-Key is still being "
                                  "processed; retry shortly")

