"""Phase 1 account routes: opening with a credit limit, withdrawals, balance (as of), statement.

POST /accounts replaces phase 0's (declared in the phase's `replaces_routes`): the account and
its ledger account are opened in one transaction, optionally with a credit limit.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from fintech_core.accounts.routes import BadCursor, Opener
from fintech_core.accounts.routes import Reader as AccountReader
from fintech_core.api.deps import ContainerDep, IdempotencyKey, OptionalIdempotencyKey
from fintech_core.api.json_body import JsonBodyRoute
from fintech_core.api.responses import transfer_response
from fintech_core.api.schemas import AccountOut, DepositIn, TransferOut, problem_responses
from fintech_core.api.text import Text
from fintech_core.auth import access
from fintech_core.auth.deps import require
from fintech_core.auth.errors import Forbidden
from fintech_core.auth.guard import require_account
from fintech_core.auth.principals import Permission as P
from fintech_core.auth.principals import Principal
from fintech_core.domain.currency import require_currency
from fintech_core.domain.errors import AccountNotFound
from fintech_core.idempotency.http import idempotent_post
from fintech_core.idempotency.ports import StoredResponse
from fintech_core.ledger import service
from fintech_core.ledger.routes.schemas import BalanceOut, LedgerAccountIn, StatementPage
from fintech_core.service.ports import UnitOfWork
from fintech_core.transfers.domain import TransferCommand


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(seq.to_bytes(8, "big")).decode().rstrip("=")


def _seq(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadCursor("cursor is not one this API issued") from exc
    if len(raw) != 8:
        raise BadCursor("cursor is not one this API issued")
    return int.from_bytes(raw, "big")


Sender = Annotated[Principal, Depends(require(P.TRANSFERS_CREATE_OWN))]


def router() -> APIRouter:
    r = APIRouter(tags=["ledger"], route_class=JsonBodyRoute)

    @r.post("/accounts", status_code=201, response_model=AccountOut, tags=["accounts"],
            responses=problem_responses(400, 422, 503),
            summary="Open an account (ACTIVE, zero) and its ledger account, with a credit limit")
    async def open_account(body: LedgerAccountIn, request: Request, c: ContainerDep,
                           caller: Opener,
                           idempotency_key: OptionalIdempotencyKey = None) -> JSONResponse:
        # Mass assignment (OWASP API3): a credit limit is credit the bank extends, so only a
        # role that may set one can open an account with one; everyone else gets 403 and
        # nothing is opened. Allowed or not, the body is the same model: no field is silently
        # dropped.
        if body.credit_limit and not caller.may(P.ACCOUNTS_SET_CREDIT_LIMIT):
            raise Forbidden("only an admin may open an account with a credit limit",
                            permission=P.ACCOUNTS_SET_CREDIT_LIMIT.value)

        async def operation(uow: UnitOfWork) -> StoredResponse:
            account = await service.open_account(uow, body.owner, body.currency,
                                                 body.credit_limit)
            reach = uow.extension(access.EXTENSION)
            await reach.assign_account(account.id, caller.subject)
            if body.credit_limit:
                await reach.audit(caller.subject, "account.credit-limit-set", account.id,
                                  {"credit_limit": body.credit_limit})
            return StoredResponse(201, AccountOut.of(account).model_dump(mode="json"),
                                  {"Location": f"/accounts/{account.id}"})

        return await idempotent_post(c, request, caller.subject, idempotency_key,
                                     body.model_dump(mode="json"), operation, moves_money=False)

    @r.post("/accounts/{account_id}/withdrawals", status_code=201, response_model=TransferOut,
            responses=problem_responses(400, 404, 409, 422, 503),
            summary="Pay money out of the lab (posts against @external:cash-out)")
    async def withdraw(account_id: UUID, body: DepositIn, request: Request, c: ContainerDep,
                       idempotency_key: IdempotencyKey, caller: Sender) -> JSONResponse:
        await require_account(c.uow_factory, caller, P.TRANSFERS_CREATE_OWN, account_id)
        command = TransferCommand(account_id, None, body.amount, require_currency(body.currency),
                                  body.reference)

        async def operation(uow: UnitOfWork) -> StoredResponse:
            return transfer_response(await c.transfers.execute(uow, command, caller.subject),
                                     c.composition.problems)

        return await idempotent_post(c, request, caller.subject, idempotency_key,
                                     body.model_dump(mode="json"), operation)

    @r.get("/accounts/{account_id}/balance", response_model=BalanceOut,
           responses=problem_responses(404, 422, 503),
           summary="Posted, pending and available balance, now or as of a past instant")
    async def balance(account_id: UUID, c: ContainerDep, caller: AccountReader,
                      as_of: Annotated[datetime | None, Query(
                          description="ISO 8601 instant; without a zone, UTC.")] = None
                      ) -> BalanceOut:
        if as_of is not None and as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=UTC)
        await require_account(c.uow_factory, caller, P.ACCOUNTS_READ_OWN, account_id)
        async with c.uow_factory() as uow:
            view = await uow.extension("ledger_reads").balance(account_id, as_of)
        if view is None:
            raise AccountNotFound(f"account {account_id} does not exist",
                                  account_id=str(account_id))
        return BalanceOut.of(view)

    @r.get("/accounts/{account_id}/entries", response_model=StatementPage,
           responses=problem_responses(404, 422, 503),
           summary="Statement: posted entries, newest first, with the running balance")
    async def entries(account_id: UUID, c: ContainerDep, caller: AccountReader,
                      limit: Annotated[int, Query(ge=1, le=200)] = 50,
                      cursor: Annotated[Text | None, Query(max_length=32)] = None
                      ) -> StatementPage:
        before = _seq(cursor) if cursor else None
        await require_account(c.uow_factory, caller, P.ACCOUNTS_READ_OWN, account_id)
        async with c.uow_factory() as uow:
            if await uow.accounts.get(account_id) is None:
                raise AccountNotFound(f"account {account_id} does not exist",
                                      account_id=str(account_id))
            lines = await uow.extension("ledger_reads").statement(account_id, before, limit + 1)
        page, more = lines[:limit], len(lines) > limit
        return StatementPage.of(page, _cursor(page[-1].seq) if more else None)

    return r
