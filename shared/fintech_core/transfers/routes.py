"""POST /transfers, POST /accounts/{id}/deposits, GET /transfers/{id}.

Both POSTs take the one idempotent path every money-moving route shares (idempotency/http.py):
the key is checked before anything about the body, the pipeline runs inside the key's
transaction, and a retry replays the first response.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from fintech_core.api.deps import ContainerDep, IdempotencyKey
from fintech_core.api.json_body import JsonBodyRoute
from fintech_core.api.responses import transfer_response
from fintech_core.api.schemas import DepositIn, TransferIn, TransferOut, problem_responses
from fintech_core.auth.deps import require
from fintech_core.auth.guard import require_account, require_any_party
from fintech_core.auth.principals import Permission as P
from fintech_core.auth.principals import Principal
from fintech_core.container import Container
from fintech_core.domain.currency import require_currency
from fintech_core.domain.errors import TransferNotFound
from fintech_core.idempotency.http import idempotent_post
from fintech_core.idempotency.ports import StoredResponse
from fintech_core.service.ports import UnitOfWork
from fintech_core.transfers.domain import TransferCommand
from fintech_core.transfers.origin import Origin


async def _move_money(c: Container, request: Request, command: TransferCommand,
                      caller: Principal, raw_key: str, body: dict[str, object]) -> JSONResponse:
    origin, principal = Origin.of(request, caller.client.value), caller.subject

    async def operation(uow: UnitOfWork) -> StoredResponse:
        outcome = await c.transfers.execute(uow, command, principal, (origin,))
        return transfer_response(outcome, c.composition.problems)

    return await idempotent_post(c, request, principal, raw_key, body, operation, batchable=True)


Sender = Annotated[Principal, Depends(require(P.TRANSFERS_CREATE_OWN))]
Teller = Annotated[Principal, Depends(require(P.LEDGER_DEPOSIT))]
Reader = Annotated[Principal, Depends(require(P.TRANSFERS_READ_OWN))]


def router() -> APIRouter:
    r = APIRouter(tags=["transfers"], route_class=JsonBodyRoute)

    @r.post("/transfers", status_code=201, response_model=TransferOut,
            responses=problem_responses(400, 404, 409, 422, 503),
            summary="Move money between two accounts, exactly once per Idempotency-Key")
    async def create_transfer(body: TransferIn, request: Request, c: ContainerDep,
                              idempotency_key: IdempotencyKey, caller: Sender) -> JSONResponse:
        # Only the source's holder may send from it (the destination may be anyone's).
        await require_account(c.uow_factory, caller, P.TRANSFERS_CREATE_OWN,
                              body.source_account_id)
        command = TransferCommand(body.source_account_id, body.destination_account_id,
                                  body.amount, require_currency(body.currency), body.reference)
        return await _move_money(c, request, command, caller, idempotency_key,
                                 body.model_dump(mode="json"))

    @r.post("/accounts/{account_id}/deposits", status_code=201, response_model=TransferOut,
            responses=problem_responses(400, 404, 409, 422, 503),
            summary="Fund an account from outside the lab (test money)")
    async def deposit(account_id: UUID, body: DepositIn, request: Request, c: ContainerDep,
                      idempotency_key: IdempotencyKey, caller: Teller) -> JSONResponse:
        command = TransferCommand(None, account_id, body.amount, require_currency(body.currency),
                                  body.reference)
        return await _move_money(c, request, command, caller, idempotency_key,
                                 body.model_dump(mode="json"))

    @r.get("/transfers/{transfer_id}", response_model=TransferOut,
           responses=problem_responses(404, 503),
           summary="What happened to a transfer (the answer after a timeout)")
    async def get_transfer(transfer_id: UUID, c: ContainerDep, caller: Reader) -> TransferOut:
        async with c.uow_factory() as uow:
            transfer = await uow.transfers.get(transfer_id)
        missing = TransferNotFound(f"transfer {transfer_id} does not exist")
        if transfer is None:
            raise missing
        await require_any_party(c.uow_factory, caller, P.TRANSFERS_READ_OWN,
                                (transfer.source_id, transfer.destination_id),
                                missing)
        return TransferOut.of(transfer)

    return r
