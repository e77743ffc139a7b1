"""Whole-transaction retries for serialization failures and deadlocks.

PostgreSQL may abort a transaction that did nothing wrong (40001, 40P01). The only correct
response is to run the *whole* transaction again; these errors must never reach a client as 500.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg.errors

T = TypeVar("T")


class RetryTransaction(Exception):
    """Raised by an adapter that detected a benign race the next attempt will resolve."""


RETRYABLE = (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected, RetryTransaction)

# Two requests with one Idempotency-Key can both find it unused in a microsecond window (see
# adapters/sql_idempotency.py); the second one's INSERT then hits this primary key. In pipeline
# mode that error may surface at COMMIT rather than at the INSERT, so it is recognised by the
# constraint's name wherever it appears. The retry finds the first response and replays it.
RACED_KEY_CONSTRAINT = "idempotency_keys_pkey"


def retryable(exc: BaseException) -> bool:
    if isinstance(exc, RETRYABLE):
        return True
    return (isinstance(exc, psycopg.errors.UniqueViolation)
            and exc.diag.constraint_name == RACED_KEY_CONSTRAINT)


async def with_retries(attempt: Callable[[], Awaitable[T]], tries: int = 8) -> T:
    for n in range(1, tries + 1):
        try:
            return await attempt()
        except Exception as exc:
            if n == tries or not retryable(exc):
                raise
            await asyncio.sleep(random.uniform(0, 0.005 * 2**n))  # jitter breaks lock-step retries
    raise AssertionError("unreachable")
