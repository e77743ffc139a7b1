"""The hold sweeper: a background task (phase 1's `background_tasks`) that expires due holds.

It is an optimisation of *when* the release shows in the transfer's status, never a condition
for correctness: funds held by an overdue hold are already counted as available by reads and
released by the next write that touches the payer (see planning). Each hold expires in its own
short transaction with whole-transaction retries; a crash loses nothing, the next run redoes it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fintech_core.ledger import service
from fintech_core.service.ports import UnitOfWorkFactory
from fintech_core.service.retry import with_retries

log = logging.getLogger("fintech_core.ledger")


async def expire_due(uow_factory: UnitOfWorkFactory, limit: int = 100) -> int:
    async with uow_factory() as uow:
        due = await service.ledger_of(uow).due_holds(limit)
    expired = 0
    for transfer_id in due:
        async def attempt(transfer_id=transfer_id) -> bool:  # type: ignore[no-untyped-def]
            async with uow_factory() as uow:
                done = await service.expire(uow, transfer_id)
                await uow.commit()
                return done
        expired += await with_retries(attempt)
    return expired


async def run_sweeper(container: Any) -> None:
    interval = container.settings.hold_sweep_interval_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            expired = await expire_due(container.uow_factory)
            if expired:
                log.info("expired %d holds", expired)
        except Exception:
            log.exception("hold sweeper failed; will retry")
