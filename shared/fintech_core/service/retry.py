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


async def with_retries(attempt: Callable[[], Awaitable[T]], tries: int = 8) -> T:
    for n in range(1, tries + 1):
        try:
            return await attempt()
        except RETRYABLE:
            if n == tries:
                raise
            await asyncio.sleep(random.uniform(0, 0.005 * 2**n))  # jitter breaks lock-step retries
    raise AssertionError("unreachable")
