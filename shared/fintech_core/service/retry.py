"""Whole-transaction retries for the races a database resolves by aborting a transaction.

PostgreSQL may abort a transaction that did nothing wrong (a serialization failure, a deadlock,
two requests that found one Idempotency-Key unused in the same microsecond). The only correct
response is to run the *whole* transaction again; these must never reach a client as 500.

Which driver errors are such races is the unit of work's business (db/errors.py classifies them
and the SQL unit of work raises RetryTransaction in their place), so the service layer names no
driver, no SQLSTATE and no constraint.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class RetryTransaction(Exception):
    """The transaction lost a benign race; the next attempt will resolve it."""


async def with_retries(attempt: Callable[[], Awaitable[T]], tries: int = 8) -> T:
    for n in range(1, tries + 1):
        try:
            return await attempt()
        except RetryTransaction:
            if n == tries:
                raise
            await asyncio.sleep(random.uniform(0, 0.005 * 2**n))  # jitter breaks lock-step retries
    raise AssertionError("unreachable")
