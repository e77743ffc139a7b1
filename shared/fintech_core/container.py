"""The container: what the composition root built for one process, handed to routes (through
app.state), background tasks and CLI commands. It holds no wiring logic: bootstrap.py builds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fintech_core.faults import FaultPoints
from fintech_core.phase import Composition
from fintech_core.service.ports import UnitOfWorkFactory
from fintech_core.settings import Settings
from fintech_core.transfers.group_commit import GroupCommit
from fintech_core.transfers.service import TransferService


@dataclass
class Container:
    settings: Settings
    composition: Composition
    database_url: str
    uow_factory: UnitOfWorkFactory
    transfers: TransferService
    faults: FaultPoints
    mailer: Any
    pool: AsyncConnectionPool | None = None
    group_commit: GroupCommit | None = None  # None: one transaction per request
    # The composition's process-wide resources (Phase.resources), by name.
    resources: dict[str, Any] = field(default_factory=dict)

    async def open(self) -> None:
        if self.pool is not None:
            await self.pool.open(wait=True, timeout=30)
        for resource in self.resources.values():
            if hasattr(resource, "aopen"):
                await resource.aopen()

    async def close(self) -> None:
        if self.group_commit is not None:
            await self.group_commit.close()
        for resource in self.resources.values():
            if hasattr(resource, "aclose"):
                await resource.aclose()
        if self.pool is not None:
            await self.pool.close()

    async def reap_keys(self) -> int:
        async with self.uow_factory() as uow:
            deleted = await uow.idempotency.reap(self.settings.idempotency_retention_hours)
            await uow.commit()
        return deleted
