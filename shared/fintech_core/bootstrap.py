"""The composition root: the only place that builds pools, services and the app.

Every adapter is a parameter, so tests pass fakes (a fake unit of work, a fast mailer) and the
real wiring stays in one readable function. Nothing connects until the app's lifespan opens the
pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from fintech_core.adapters.mailer import InlineMailer
from fintech_core.db.pool import make_pool
from fintech_core.db.uow import SqlUnitOfWorkFactory
from fintech_core.db.urls import with_database
from fintech_core.faults import FaultPoints
from fintech_core.phase import Composition
from fintech_core.service.ports import UnitOfWorkFactory
from fintech_core.service.transfers import TransferService
from fintech_core.settings import Settings


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

    async def open(self) -> None:
        if self.pool is not None:
            await self.pool.open(wait=True, timeout=30)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    async def reap_keys(self) -> int:
        async with self.uow_factory() as uow:
            deleted = await uow.idempotency.reap(self.settings.idempotency_retention_hours)
            await uow.commit()
        return deleted


def phase_database_url(settings: Settings) -> str:
    if not settings.database_url:
        raise RuntimeError(
            "FINCORE_DATABASE_URL is not set: start the embedded stack with `make up` "
            "(or `./fcl up`), or point the lab at a PostgreSQL server"
        )
    return with_database(settings.database_url, settings.database_name())


def bootstrap(settings: Settings, composition: Composition | None = None, *,
              uow_factory: UnitOfWorkFactory | None = None, mailer: Any = None) -> Container:
    if composition is None:
        from phases import composition as compose_phase

        composition = compose_phase(settings.phase)
    pool = None
    url = ""
    if uow_factory is None:
        url = phase_database_url(settings)
        pool = make_pool(url, settings.db_pool_min, settings.db_pool_max)
        uow_factory = SqlUnitOfWorkFactory(pool, composition.extensions, settings.db_pipeline)
    return Container(
        settings=settings,
        composition=composition,
        database_url=url,
        uow_factory=uow_factory,
        transfers=TransferService(composition.pipeline),
        faults=FaultPoints(enabled=settings.drill_mode),
        mailer=mailer or InlineMailer(settings.mail_latency_ms, settings.mail_fail),
        pool=pool,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Uvicorn factory entrypoint: `uvicorn --factory fintech_core.bootstrap:create_app`."""
    from fintech_core.api.app import build_app

    return build_app(bootstrap(settings or Settings()))
