"""The composition root: the only place that builds pools, services and the app.

Every adapter is a parameter, so tests pass fakes (a fake unit of work, a fast mailer) and the
real wiring stays in one readable function. Nothing connects until the app's lifespan opens the
pool.
"""

from __future__ import annotations

from typing import Any

from fintech_core.auth import access
from fintech_core.container import Container
from fintech_core.db.pool import make_pool
from fintech_core.db.uow import SqlUnitOfWorkFactory
from fintech_core.db.urls import with_database
from fintech_core.faults import POINTS, FaultPoints
from fintech_core.naive.mailer import InlineMailer
from fintech_core.phase import Composition
from fintech_core.service.ports import UnitOfWorkFactory
from fintech_core.settings import Settings
from fintech_core.transfers.group_commit import GroupCommit
from fintech_core.transfers.service import TransferService


def phase_database_url(settings: Settings) -> str:
    if not settings.database_url:
        raise RuntimeError(
            "FINCORE_DATABASE_URL is not set: start the embedded stack with `make up` "
            "(or `./fcl up`), or point the lab at a PostgreSQL server"
        )
    return with_database(settings.database_url, settings.database_name())


def extensions_of(composition: Composition) -> dict[str, Any]:
    """The composition's unit-of-work extensions over the core's defaults (a phase that declares
    the same name replaces the default: phase 4's "access" gives accounts their holders)."""
    return {access.EXTENSION: access.NoHolders, **composition.extensions}


def bootstrap(settings: Settings, composition: Composition, *,
              uow_factory: UnitOfWorkFactory | None = None, mailer: Any = None) -> Container:
    """`composition` comes from above the core (the registry's entry points, a test): the core
    runs whatever phases it is handed and never looks them up itself."""
    pool = None
    url = ""
    if uow_factory is None:
        url = phase_database_url(settings)
        pool = make_pool(url, settings.db_pool_min, settings.db_pool_max)
        uow_factory = SqlUnitOfWorkFactory(pool, extensions_of(composition), settings.db_pipeline)
    faults = FaultPoints(enabled=settings.drill_mode,
                         points={**POINTS, **composition.fault_points})
    group_commit = GroupCommit(
        uow_factory, dict(composition.batch_extensions), faults, settings.group_commit_max_batch,
        settings.group_commit_max_wait_us) if settings.group_commit else None
    resources = {name: build(settings) for name, build in composition.resources.items()}
    return Container(
        settings=settings,
        composition=composition,
        database_url=url,
        uow_factory=uow_factory,
        transfers=TransferService(composition.pipeline, resources),
        faults=faults,
        mailer=mailer or InlineMailer(settings.mail_latency_ms, settings.mail_fail),
        pool=pool,
        group_commit=group_commit,
        resources=resources,
    )
