"""POST /transfers/{id}/post and /void at phase 5: phase 1's commands, refused (409
transfer-under-review, nothing changed) while the hold is a transfer under fraud review.

Why: a reviewed transfer is a phase-1 hold whose source is the customer's own account, and phase
1 lets the source's holder post their hold. Without this the customer could complete the very
transfer the engine held for review. The review guard trigger (p5_0001) refuses the same change
in the database, whoever makes it; this route answers it as a problem instead of an error.
Approve and reject (fraud/routes.py) are the ways such a hold is settled.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from fintech_core.api.deps import ContainerDep, IdempotencyKey
from fintech_core.api.json_body import JsonBodyRoute
from fintech_core.auth.deps import require
from fintech_core.auth.guard import require_transfer_source
from fintech_core.auth.principals import Permission as P
from fintech_core.auth.principals import Principal
from fintech_core.fraud.errors import TransferUnderReview
from fintech_core.fraud.steps import EXTENSION
from fintech_core.ledger import service
from fintech_core.ledger.routes.details import TransferDetailOut
from fintech_core.ledger.routes.holds import ERRORS, command
from fintech_core.ledger.routes.schemas import PostIn
from fintech_core.service.ports import UnitOfWork

Sender = Annotated[Principal, Depends(require(P.TRANSFERS_CREATE_OWN))]
ROUTES = frozenset({"POST /transfers/{transfer_id}/post", "POST /transfers/{transfer_id}/void"})


async def not_under_review(uow: UnitOfWork, transfer_id: UUID) -> None:
    if await uow.extension(EXTENSION).review_state(transfer_id) == "OPEN":
        raise TransferUnderReview(
            f"transfer {transfer_id} is held for a fraud review: support approves or rejects it",
            transfer_id=str(transfer_id))


def router() -> APIRouter:
    r = APIRouter(tags=["transfers"], route_class=JsonBodyRoute)

    @r.post("/transfers/{transfer_id}/post", response_model=TransferDetailOut, responses=ERRORS,
            summary="Post a hold, fully or partly (not one under fraud review)")
    async def post(transfer_id: UUID, request: Request, c: ContainerDep,
                   idempotency_key: IdempotencyKey, caller: Sender,
                   body: PostIn | None = None) -> JSONResponse:
        await require_transfer_source(c.uow_factory, caller, P.TRANSFERS_CREATE_OWN, transfer_id)

        async def act(uow: UnitOfWork) -> UUID:
            await not_under_review(uow, transfer_id)
            await service.post(uow, transfer_id, body.amount if body else None)
            return transfer_id

        return await command(request, c, caller.subject, idempotency_key, body, 200, act)

    @r.post("/transfers/{transfer_id}/void", response_model=TransferDetailOut, responses=ERRORS,
            summary="Void a hold: release the reserved funds (not one under fraud review)")
    async def void(transfer_id: UUID, request: Request, c: ContainerDep,
                   idempotency_key: IdempotencyKey, caller: Sender) -> JSONResponse:
        await require_transfer_source(c.uow_factory, caller, P.TRANSFERS_CREATE_OWN, transfer_id)

        async def act(uow: UnitOfWork) -> UUID:
            await not_under_review(uow, transfer_id)
            await service.void(uow, transfer_id)
            return transfer_id

        return await command(request, c, caller.subject, idempotency_key, None, 200, act)

    return r
