"""Run an operation at most once per (principal, Idempotency-Key), replaying its first response.

Guarantees, all from one PostgreSQL transaction:
- the operation's writes and the stored response commit together or not at all, so a crash at any
  point leaves the key either unused (retry runs the operation) or settled (retry replays);
- while one request holds a key, a concurrent one gets IdempotencyKeyInFlight (409) at once
  instead of queueing behind it (a transaction-scoped advisory lock, see the SQL store);
- the same key with a different request fingerprint is IdempotencyKeyReused (422).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fintech_core.domain.errors import IdempotencyKeyReused
from fintech_core.idempotency.ports import StoredResponse
from fintech_core.service.ports import UnitOfWork, UnitOfWorkFactory
from fintech_core.service.retry import with_retries

Operation = Callable[[UnitOfWork], Awaitable[StoredResponse]]


async def run_idempotently(
    uow_factory: UnitOfWorkFactory,
    principal: str,
    key: str | None,
    fingerprint: str,
    operation: Operation,
) -> tuple[StoredResponse, bool]:
    """Returns (response, replayed)."""

    async def attempt() -> tuple[StoredResponse, bool]:
        async with uow_factory() as uow:
            if key is not None:
                stored = await uow.idempotency.claim(principal, key)
                if stored is not None:
                    if stored.fingerprint != fingerprint:
                        raise IdempotencyKeyReused(
                            "this Idempotency-Key was already used with a different request; "
                            "mint a new key for a new request"
                        )
                    return stored.response, True
            response = await operation(uow)
            if key is not None:
                await uow.idempotency.save(principal, key, fingerprint, response)
            await uow.commit()
            return response, False

    return await with_retries(attempt)
