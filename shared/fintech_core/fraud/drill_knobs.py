"""/_drill/fraud-engine: the contract's drill knobs (fraud_engine_delay_ms, fraud_engine_fail),
switched at run time on the running engine, for chaos faults and drills.

Settings are read once, at start-up; a chaos fault must make the engine slow for a while and
then well again without restarting the API. The engine reads both knobs on every decision,
inside its budgeted call (fraud/engine.py), so setting them here acts from the next transfer.

Guarded like the core's /_drill routes: drill mode only (404 otherwise, as if absent), the
drill-faults permission, and out of the OpenAPI document. A restarted API starts from its
Settings again (the knobs off), which is what a crashed engine would do.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from fintech_core.api.deps import ContainerDep
from fintech_core.api.json_body import JsonBodyRoute
from fintech_core.api.schemas import problem_responses
from fintech_core.auth.deps import require
from fintech_core.auth.principals import Permission
from fintech_core.domain.errors import NotFound
from fintech_core.fraud.engine import RESOURCE, FraudEngine


class EngineKnobs(BaseModel):
    delay_ms: int = Field(default=0, ge=0, le=60_000)
    fail: bool = False


def _engine(c: ContainerDep) -> FraudEngine:
    engine = c.resources.get(RESOURCE)
    if not c.settings.drill_mode or not isinstance(engine, FraudEngine):
        raise NotFound("no such route outside drill mode")
    return engine


def router() -> APIRouter:
    r = APIRouter(prefix="/_drill", tags=["drills"], route_class=JsonBodyRoute,
                  include_in_schema=False,
                  dependencies=[Depends(require(Permission.DRILL_FAULTS))])

    @r.get("/fraud-engine")
    async def knobs(c: ContainerDep) -> EngineKnobs:
        engine = _engine(c)
        return EngineKnobs(delay_ms=round(engine.delay_s * 1000), fail=engine.fail)

    @r.put("/fraud-engine", responses=problem_responses(404))
    async def turn(body: EngineKnobs, c: ContainerDep) -> EngineKnobs:
        engine = _engine(c)
        engine.delay_s, engine.fail = body.delay_ms / 1000, body.fail
        return body

    return r
