"""Phase 5's review queue and decision counts.

    GET  /fraud/reviews?state=OPEN               fraud:review (support, admin)
    POST /fraud/reviews/{transfer_id}/approve    fraud:review, Idempotency-Key: post the hold
    POST /fraud/reviews/{transfer_id}/reject     fraud:review, Idempotency-Key: void the hold
    GET  /fraud/decisions/stats                  fraud:read (support, auditor, admin)

Approve and reject are commands on an existing hold, run like phase 1's post and void (the same
ledger service, the same idempotent path): a refusal changes nothing and leaves the key unused.
The review row is locked and moved out of OPEN before the hold is posted or voided, in the same
transaction: two reviewers deciding at once are served one after the other, and the second one
gets 409 review-not-open. A hold past its expiry cannot be approved: it reads EXPIRED.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from fintech_core.api.deps import ContainerDep, IdempotencyKey
from fintech_core.api.json_body import JsonBodyRoute
from fintech_core.api.schemas import problem_responses
from fintech_core.auth.deps import require
from fintech_core.auth.principals import Permission as P
from fintech_core.auth.principals import Principal
from fintech_core.fraud import views
from fintech_core.fraud.errors import ReviewNotFound, ReviewNotOpen
from fintech_core.fraud.steps import EXTENSION
from fintech_core.ledger import service
from fintech_core.ledger.routes.details import TransferDetailOut
from fintech_core.ledger.routes.holds import command
from fintech_core.service.ports import UnitOfWork
from fintech_core.transfers.domain import TransferStatus

Reviewer = Annotated[Principal, Depends(require(P.FRAUD_REVIEW))]
Reader = Annotated[Principal, Depends(require(P.FRAUD_READ))]
ERRORS = problem_responses(400, 404, 409, 422, 503)


async def close(uow: UnitOfWork, transfer_id: UUID, state: str, by: str) -> None:
    fraud = uow.extension(EXTENSION)
    stored = await fraud.review_state(transfer_id, lock=True)
    if stored is None:
        raise ReviewNotFound(f"transfer {transfer_id} is not under review",
                             transfer_id=str(transfer_id))
    hold = await uow.extension("ledger").hold(transfer_id)
    expired = hold is None or hold.expired or hold.status is TransferStatus.EXPIRED
    if stored != "OPEN" or expired:
        now = "EXPIRED" if stored == "OPEN" else stored
        raise ReviewNotOpen(f"the review of transfer {transfer_id} is {now}, not OPEN",
                            transfer_id=str(transfer_id), state=now)
    await fraud.close_review(transfer_id, state, by)  # before the guard trigger looks
    if state == "APPROVED":
        await service.post(uow, transfer_id, None)
    else:
        await service.void(uow, transfer_id)


def router() -> APIRouter:
    r = APIRouter(tags=["fraud"], route_class=JsonBodyRoute)

    @r.get("/fraud/reviews", response_model=list[views.ReviewQueueItem],
           responses=problem_responses(400, 503),
           summary="The review queue: transfers held for a fraud review (OPEN by default)")
    async def reviews(c: ContainerDep, caller: Reviewer,
                      state: Literal["OPEN", "APPROVED", "REJECTED", "EXPIRED"] | None = "OPEN",
                      limit: Annotated[int, Query(ge=1, le=500)] = 100,
                      ) -> list[views.ReviewQueueItem]:
        async with c.uow_factory() as uow:
            return await views.reviews(uow.extension(EXTENSION).conn, state, limit)

    for action, state in (("approve", "APPROVED"), ("reject", "REJECTED")):
        r.add_api_route(
            f"/fraud/reviews/{{transfer_id}}/{action}", _decider(state), methods=["POST"],
            response_model=TransferDetailOut, responses=ERRORS,
            summary=("Approve a review: the hold is posted, the money moves" if state ==
                     "APPROVED" else "Reject a review: the hold is voided, nothing moves"))

    @r.get("/fraud/decisions/stats", response_model=views.DecisionStats,
           responses=problem_responses(503),
           summary="Decisions per verdict and per fallback kind (timeouts are counted)")
    async def stats(c: ContainerDep, caller: Reader) -> views.DecisionStats:
        async with c.uow_factory() as uow:
            return await views.stats(uow.extension(EXTENSION).conn)

    return r


def _decider(state: str) -> Callable[..., Awaitable[JSONResponse]]:
    async def decide(transfer_id: UUID, request: Request, c: ContainerDep,
                     idempotency_key: IdempotencyKey, caller: Reviewer) -> JSONResponse:
        async def act(uow: UnitOfWork) -> UUID:
            await close(uow, transfer_id, state, caller.subject)
            return transfer_id

        return await command(request, c, caller.subject, idempotency_key, None, 200, act)

    decide.__name__ = f"{state.lower()}_review"
    return decide
