"""/_drill: arm and clear fault points. Mounted only with FINCORE_DRILL_MODE=true."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from fintech_core.api.deps import ContainerDep
from fintech_core.api.json_body import JsonBodyRoute
from fintech_core.api.schemas import problem_responses
from fintech_core.auth.deps import require
from fintech_core.auth.principals import Permission
from fintech_core.domain.errors import NotFound
from fintech_core.faults import POINTS, ArmedFault


class FaultIn(BaseModel):
    point: str = Field(examples=list(POINTS))
    action: Literal["delay", "error", "crash"]
    delay_ms: int = Field(default=0, ge=0, le=600_000)
    times: int = Field(default=1, ge=-1, description="Hits that trigger it; -1 for every hit.")


def router() -> APIRouter:
    # Mounted in drill mode only, and never reachable with a customer's token.
    r = APIRouter(prefix="/_drill", tags=["drills"], route_class=JsonBodyRoute,
                  dependencies=[Depends(require(Permission.DRILL_FAULTS))])

    @r.get("/faults")
    async def listing(c: ContainerDep) -> dict[str, object]:
        return {"points": c.faults.points,
                "armed": {k: vars(v) for k, v in c.faults.armed().items()}}

    @r.post("/faults", status_code=204, responses=problem_responses(404))
    async def arm(body: FaultIn, c: ContainerDep) -> None:
        if body.point not in c.faults.points:
            raise NotFound(f"no fault point {body.point!r}; see GET /_drill/faults")
        c.faults.arm(body.point, ArmedFault(body.action, body.delay_ms, body.times))

    @r.delete("/faults", status_code=204)
    async def clear(c: ContainerDep) -> None:
        c.faults.clear()

    return r
