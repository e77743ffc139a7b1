"""POST /transfers, POST /accounts/{id}/deposits, GET /transfers/{id}."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from fintech_core.api.deps import DEFAULT_PRINCIPAL, ContainerDep, IdempotencyKey, Principal
from fintech_core.api.json_body import JsonBodyRoute
from fintech_core.api.responses import to_http, transfer_response
from fintech_core.api.schemas import DepositIn, TransferIn, TransferOut, problem_responses
from fintech_core.domain.currency import require_currency
from fintech_core.domain.errors import TransferNotFound
from fintech_core.domain.transfers import TransferCommand
from fintech_core.service.idempotency_key import fingerprint, parse_key
from fintech_core.service.idempotent import run_idempotently
from fintech_core.service.ports import StoredResponse, UnitOfWork


async def _move_money(c: ContainerDep, request: Request, make_command: Callable[[], TransferCommand],
                      principal: str, raw_key: str, body: dict[str, object]) -> JSONResponse:
    # The key is checked before anything about the body: without a usable key nothing else
    # matters, and a client learns that first (400), whatever else is wrong with the request.
    key = parse_key(raw_key)
    command = make_command()
    fp = fingerprint(request.method, request.url.path, body, principal)

    async def operation(uow: UnitOfWork) -> StoredResponse:
        outcome = await c.transfers.execute(uow, command, principal)
        await c.faults.hit("transfer.before_commit")
        return transfer_response(outcome)

    response, replayed = await run_idempotently(c.uow_factory, principal, key, fp, operation)
    await c.faults.hit("transfer.after_commit")
    return to_http(response, replayed, request.url.path)


def router() -> APIRouter:
    r = APIRouter(tags=["transfers"], route_class=JsonBodyRoute)

    @r.post("/transfers", status_code=201, response_model=TransferOut,
            responses=problem_responses(400, 404, 409, 422, 503),
            summary="Move money between two accounts, exactly once per Idempotency-Key")
    async def create_transfer(body: TransferIn, request: Request, c: ContainerDep,
                              idempotency_key: IdempotencyKey,
                              x_client_id: Principal = DEFAULT_PRINCIPAL) -> JSONResponse:
        def command() -> TransferCommand:
            return TransferCommand(body.source_account_id, body.destination_account_id,
                                   body.amount, require_currency(body.currency), body.reference)

        return await _move_money(c, request, command, x_client_id, idempotency_key,
                                 body.model_dump(mode="json"))

    @r.post("/accounts/{account_id}/deposits", status_code=201, response_model=TransferOut,
            responses=problem_responses(400, 404, 409, 422, 503),
            summary="Fund an account from outside the lab (test money)")
    async def deposit(account_id: UUID, body: DepositIn, request: Request, c: ContainerDep,
                      idempotency_key: IdempotencyKey,
                      x_client_id: Principal = DEFAULT_PRINCIPAL) -> JSONResponse:
        def command() -> TransferCommand:
            return TransferCommand(None, account_id, body.amount, require_currency(body.currency),
                                   body.reference)

        return await _move_money(c, request, command, x_client_id, idempotency_key,
                                 body.model_dump(mode="json"))

    @r.get("/transfers/{transfer_id}", response_model=TransferOut,
           responses=problem_responses(404, 503),
           summary="What happened to a transfer (the answer after a timeout)")
    async def get_transfer(transfer_id: UUID, c: ContainerDep) -> TransferOut:
        async with c.uow_factory() as uow:
            transfer = await uow.transfers.get(transfer_id)
        if transfer is None:
            raise TransferNotFound(f"transfer {transfer_id} does not exist")
        return TransferOut.of(transfer)

    return r
