"""Phase 1 hold routes: POST /holds, POST /transfers/{id}/post, POST /transfers/{id}/void.

A hold travels the same transfer pipeline as an immediate transfer (seeded with a hold request in
the context's ledger part), so a refusal is recorded as a FAILED transfer exactly as in phase 0.
Post and void are commands on an existing transfer: refused, they change nothing and leave the
key unused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from fintech_core.api.deps import ContainerDep, IdempotencyKey
from fintech_core.api.json_body import JsonBodyRoute
from fintech_core.api.responses import transfer_response
from fintech_core.api.schemas import Strict, problem_responses
from fintech_core.auth.deps import require
from fintech_core.auth.guard import require_account, require_transfer_source
from fintech_core.auth.principals import Permission as P
from fintech_core.auth.principals import Principal
from fintech_core.domain.currency import require_currency
from fintech_core.idempotency.http import idempotent_post
from fintech_core.idempotency.ports import StoredResponse
from fintech_core.ledger import service
from fintech_core.ledger.routes.details import TransferDetailOut
from fintech_core.ledger.routes.schemas import HoldIn, PostIn
from fintech_core.ledger.steps import HoldRequest, LedgerWork
from fintech_core.service.ports import UnitOfWork
from fintech_core.transfers.domain import TransferCommand

if TYPE_CHECKING:
    from fintech_core.container import Container

ERRORS = problem_responses(400, 404, 409, 422, 503)
Sender = Annotated[Principal, Depends(require(P.TRANSFERS_CREATE_OWN))]


async def details_response(uow: UnitOfWork, transfer_id: UUID, status: int) -> StoredResponse:
    details = await uow.extension("ledger_reads").details(transfer_id)
    body = TransferDetailOut.from_details(details).model_dump(mode="json")
    return StoredResponse(status, body, {"Location": f"/transfers/{transfer_id}"})


async def command(request: Request, c: Container, principal: str, raw_key: str,
                  body: Strict | None, status: int,
                  act: Callable[[UnitOfWork], Awaitable[UUID]]) -> JSONResponse:
    """Run `act` idempotently; answer with the details of the transfer it returns."""
    async def operation(uow: UnitOfWork) -> StoredResponse:
        return await details_response(uow, await act(uow), status)

    fields = body.model_dump(mode="json") if body is not None else {}
    return await idempotent_post(c, request, principal, raw_key, fields, operation)


def router() -> APIRouter:
    r = APIRouter(tags=["transfers"], route_class=JsonBodyRoute)

    @r.post("/holds", status_code=201, response_model=TransferDetailOut, responses=ERRORS,
            summary="Reserve funds: a two-phase transfer, PENDING until posted, voided or expired")
    async def create_hold(body: HoldIn, request: Request, c: ContainerDep,
                          idempotency_key: IdempotencyKey, caller: Sender) -> JSONResponse:
        await require_account(c.uow_factory, caller, P.TRANSFERS_CREATE_OWN,
                              body.source_account_id)
        command_ = TransferCommand(body.source_account_id, body.destination_account_id,
                                   body.amount, require_currency(body.currency), body.reference)

        async def operation(uow: UnitOfWork) -> StoredResponse:
            hold = LedgerWork(hold=HoldRequest(body.timeout_seconds))
            outcome = await c.transfers.execute(uow, command_, caller.subject, [hold])
            if outcome.rejection is not None:  # recorded as a FAILED transfer, as in phase 0
                return transfer_response(outcome, c.composition.problems)
            return await details_response(uow, outcome.transfer.id, 201)

        return await idempotent_post(c, request, caller.subject, idempotency_key,
                                     body.model_dump(mode="json"), operation)

    @r.post("/transfers/{transfer_id}/post", response_model=TransferDetailOut, responses=ERRORS,
            summary="Post a hold, fully or partly; the unposted rest is released")
    async def post(transfer_id: UUID, request: Request, c: ContainerDep,
                   idempotency_key: IdempotencyKey, caller: Sender,
                   body: PostIn | None = None) -> JSONResponse:
        await require_transfer_source(c.uow_factory, caller, P.TRANSFERS_CREATE_OWN, transfer_id)
        async def act(uow: UnitOfWork) -> UUID:
            await service.post(uow, transfer_id, body.amount if body else None)
            return transfer_id

        return await command(request, c, caller.subject, idempotency_key, body, 200, act)

    @r.post("/transfers/{transfer_id}/void", response_model=TransferDetailOut, responses=ERRORS,
            summary="Void a hold: release the reserved funds")
    async def void(transfer_id: UUID, request: Request, c: ContainerDep,
                   idempotency_key: IdempotencyKey, caller: Sender) -> JSONResponse:
        await require_transfer_source(c.uow_factory, caller, P.TRANSFERS_CREATE_OWN, transfer_id)

        async def act(uow: UnitOfWork) -> UUID:
            await service.void(uow, transfer_id)
            return transfer_id

        return await command(request, c, caller.subject, idempotency_key, None, 200, act)

    return r
