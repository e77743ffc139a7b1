"""PUT /accounts/{account_id}/limits: an admin sets an account's amount limits (phase 4).

The change and its audit record are written in one transaction: no limit changes without a
record of who changed it. Money is integer minor units; null removes that limit.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from fintech_core.api.deps import ContainerDep
from fintech_core.api.json_body import JsonBodyRoute
from fintech_core.api.schemas import MAX_MINOR_UNITS, MinorUnits, Strict, problem_responses
from fintech_core.auth import access
from fintech_core.auth.deps import require
from fintech_core.auth.principals import Permission as P
from fintech_core.auth.principals import Principal
from fintech_core.domain.errors import AccountNotFound
from fintech_core.limits.amounts import EXTENSION


class LimitsIn(Strict):
    per_transfer_max: MinorUnits | None = Field(
        default=None, gt=0, le=MAX_MINOR_UNITS,
        description="Largest single transfer out of the account (minor units); null: none.")
    daily_outgoing_max: MinorUnits | None = Field(
        default=None, ge=0, le=MAX_MINOR_UNITS,
        description="Most that may leave the account per UTC day (minor units); null: none.")


class LimitsOut(BaseModel):
    account_id: UUID
    per_transfer_max: int | None
    daily_outgoing_max: int | None


Admin = Annotated[Principal, Depends(require(P.LIMITS_SET))]


def router() -> APIRouter:
    r = APIRouter(tags=["limits"], route_class=JsonBodyRoute)

    @r.put("/accounts/{account_id}/limits", response_model=LimitsOut,
           responses=problem_responses(403, 404, 422, 503),
           summary="Set an account's per-transfer and daily outgoing limits (admin, audited)")
    async def set_limits(account_id: UUID, body: LimitsIn, c: ContainerDep,
                         caller: Admin) -> LimitsOut:
        async with c.uow_factory() as uow:
            if await uow.accounts.get(account_id) is None:
                raise AccountNotFound(f"account {account_id} does not exist",
                                      account_id=str(account_id))
            await uow.extension(EXTENSION).set_limits(account_id, body.per_transfer_max,
                                                      body.daily_outgoing_max)
            await uow.extension(access.EXTENSION).audit(
                caller.subject, "account.limits-set", account_id, body.model_dump())
            await uow.commit()
        return LimitsOut(account_id=account_id, **body.model_dump())

    return r
