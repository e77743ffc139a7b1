"""The one way a money-moving POST runs: Idempotency-Key, fingerprint, one transaction, faults.

Every money-moving route shares it (phase 0's transfers and deposits; phase 1's holds, post,
void, reversal, withdrawal, account opening), so every one of them has the same guarantees: a retry
with the same key replays the first response; a refusal (a DomainError) rolls back and leaves the
key unused; the drill fault points `transfer.before_commit` / `transfer.after_commit` apply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import JSONResponse

from fintech_core.api.responses import to_http
from fintech_core.idempotency.key import fingerprint, parse_key
from fintech_core.idempotency.ports import StoredResponse
from fintech_core.idempotency.runner import run_idempotently
from fintech_core.service.ports import UnitOfWork

if TYPE_CHECKING:
    from fintech_core.container import Container

Operation = Callable[[UnitOfWork], Awaitable[StoredResponse]]


async def idempotent_post(c: Container, request: Request, principal: str, raw_key: str | None,
                          body: dict[str, Any], operation: Operation, *,
                          moves_money: bool = True, batchable: bool = False) -> JSONResponse:
    """`raw_key` None is allowed only when `moves_money` is False (the key is then optional).
    `batchable`: the operation is one run of the transfer pipeline, which a group-commit batch
    may run with others in one transaction (transfers/group_commit.py) when it is on."""
    key = parse_key(raw_key) if (raw_key is not None or moves_money) else None
    fp = fingerprint(request.method, request.url.path, body, principal)
    if batchable and key is not None and c.group_commit is not None:
        response, replayed = await c.group_commit.submit(principal, key, fp, operation)
        await c.faults.hit("transfer.after_commit")
        return to_http(response, replayed, request.url.path)

    async def run(uow: UnitOfWork) -> StoredResponse:
        response = await operation(uow)
        if moves_money:
            await c.faults.hit("transfer.before_commit")
        return response

    response, replayed = await run_idempotently(c.uow_factory, principal, key, fp, run)
    if moves_money:
        await c.faults.hit("transfer.after_commit")
    return to_http(response, replayed, request.url.path)
