"""GET /ledger/verify: every cached balance recomputed from the postings; drift must be 0."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from fintech_core.api.deps import ContainerDep
from fintech_core.api.schemas import problem_responses
from fintech_core.auth.deps import require
from fintech_core.auth.principals import Permission as P
from fintech_core.auth.principals import Principal
from fintech_core.ledger.routes.details import VerifyOut


def router() -> APIRouter:
    r = APIRouter(tags=["ledger"])

    @r.get("/ledger/verify", response_model=VerifyOut, responses=problem_responses(503),
           summary="Recompute every balance from postings and report any drift")
    async def verify(c: ContainerDep,
                     caller: Annotated[Principal, Depends(require(P.LEDGER_VERIFY))]) -> VerifyOut:
        del caller  # the dependency is the check
        async with c.uow_factory() as uow:
            return VerifyOut.of(await uow.extension("ledger_reads").verify())

    return r
