"""Liveness and readiness. Always mounted, whatever the phase."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from fintech_core.api.deps import ContainerDep
from fintech_core.api.schemas import problem_responses
from fintech_core.auth.deps import public


class HealthOut(BaseModel):
    status: str
    phase: int
    features: list[str]


def router() -> APIRouter:
    r = APIRouter(tags=["meta"], dependencies=[Depends(public(
        "probes of the process and its database: they say nothing about anyone's money"))])

    @r.get("/health", response_model=HealthOut, summary="Liveness: the process answers")
    async def health(c: ContainerDep) -> HealthOut:
        return HealthOut(status="ok", phase=c.composition.number,
                         features=sorted(c.composition.features))

    @r.get("/ready", response_model=HealthOut, responses=problem_responses(503),
           summary="Readiness: the database answers")
    async def ready(c: ContainerDep) -> HealthOut:
        async with c.uow_factory() as uow:
            await uow.accounts.page(None, 1, None)  # a real query through the real pool
        return HealthOut(status="ready", phase=c.composition.number,
                         features=sorted(c.composition.features))

    return r
