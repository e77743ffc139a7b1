"""Accounts: open, read, page, freeze, unfreeze, close."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from fintech_core.accounts import service as use_cases
from fintech_core.accounts.domain import Account
from fintech_core.api.deps import ContainerDep, OptionalIdempotencyKey
from fintech_core.api.json_body import JsonBodyRoute
from fintech_core.api.responses import to_http
from fintech_core.api.schemas import AccountIn, AccountOut, AccountPage, problem_responses
from fintech_core.api.text import Text
from fintech_core.auth import access
from fintech_core.auth.deps import require
from fintech_core.auth.guard import reaches_any, require_account
from fintech_core.auth.principals import Permission as P
from fintech_core.auth.principals import Principal
from fintech_core.domain.errors import Rejected
from fintech_core.idempotency.key import fingerprint, parse_key
from fintech_core.idempotency.ports import StoredResponse
from fintech_core.idempotency.runner import run_idempotently
from fintech_core.service.ports import UnitOfWork


class BadCursor(Rejected):
    code = "validation-error"


# A cursor is the unpadded base64url of a 16-byte account id: always 22 characters, and any such
# string decodes to *some* id, so every cursor the schema allows is one the API accepts.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{22}$"


def encode_cursor(account_id: UUID) -> str:
    return base64.urlsafe_b64encode(account_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str) -> UUID:
    try:
        return UUID(bytes=base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise BadCursor("cursor is not one this API issued") from exc


Opener = Annotated[Principal, Depends(require(P.ACCOUNTS_OPEN))]
Reader = Annotated[Principal, Depends(require(P.ACCOUNTS_READ_OWN))]
STATUS_PERMISSIONS = {"freeze": P.ACCOUNTS_FREEZE, "unfreeze": P.ACCOUNTS_UNFREEZE,
                      "close": P.ACCOUNTS_CLOSE}


async def page_visible(uow: UnitOfWork, caller: Principal, after: UUID | None, limit: int,
                       owner: str | None) -> list[Account]:
    """A page of the accounts `caller` may read: all of them, or those they hold."""
    if reaches_any(caller, P.ACCOUNTS_READ_OWN):
        return await uow.accounts.page(after, limit, owner)
    held: list[Account] = await uow.extension(access.EXTENSION).page_accounts(
        caller.subject, after, limit, owner)
    return held


def router() -> APIRouter:
    r = APIRouter(tags=["accounts"], route_class=JsonBodyRoute)

    @r.post("/accounts", status_code=201, response_model=AccountOut,
            responses=problem_responses(400, 422, 503), summary="Open an account (ACTIVE, zero)")
    async def open_account(body: AccountIn, request: Request, c: ContainerDep,
                           caller: Opener,
                           idempotency_key: OptionalIdempotencyKey = None) -> JSONResponse:
        key = parse_key(idempotency_key) if idempotency_key is not None else None
        fp = fingerprint("POST", "/accounts", body.model_dump(mode="json"), caller.subject)

        async def operation(uow: UnitOfWork) -> StoredResponse:
            account = await use_cases.open_account(uow, body.owner, body.currency)
            await uow.extension(access.EXTENSION).assign_account(account.id, caller.subject)
            return StoredResponse(201, AccountOut.of(account).model_dump(mode="json"),
                                  {"Location": f"/accounts/{account.id}"})

        response, replayed = await run_idempotently(c.uow_factory, caller.subject, key, fp,
                                                    operation)
        return to_http(response, replayed, request.url.path)

    @r.get("/accounts", response_model=AccountPage, responses=problem_responses(422, 503),
           summary="List accounts, oldest first, with cursor pagination")
    async def list_accounts(
        c: ContainerDep,
        caller: Reader,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(
            pattern=CURSOR_PATTERN, description="next_cursor of the previous page")] = None,
        owner: Annotated[Text | None, Query(max_length=200)] = None,
    ) -> AccountPage:
        after = decode_cursor(cursor) if cursor else None
        async with c.uow_factory() as uow:
            rows = await page_visible(uow, caller, after, limit + 1, owner)
        items, more = rows[:limit], len(rows) > limit
        return AccountPage(items=[AccountOut.of(a) for a in items],
                           next_cursor=encode_cursor(items[-1].id) if more else None)

    @r.get("/accounts/{account_id}", response_model=AccountOut,
           responses=problem_responses(404, 503))
    async def get_account(account_id: UUID, c: ContainerDep, caller: Reader) -> AccountOut:
        await require_account(c.uow_factory, caller, P.ACCOUNTS_READ_OWN, account_id)
        async with c.uow_factory() as uow:
            return AccountOut.of(await use_cases.get_account(uow, account_id))

    def status_route(action: str, summary: str) -> None:
        transition = use_cases.TRANSITIONS[action]
        # Status changes are staff work: no "own" variant, so no ownership check. (A default,
        # not an Annotated alias: a local alias would not resolve from the module's globals.)
        staff = Depends(require(STATUS_PERMISSIONS[action]))

        async def change_status(account_id: UUID, c: ContainerDep,
                                caller: Principal = staff) -> AccountOut:
            del caller  # the dependency is the check
            async with c.uow_factory() as uow:
                account = await use_cases.change_status(uow, account_id, transition)
                await uow.commit()
            return AccountOut.of(account)

        r.add_api_route(f"/accounts/{{account_id}}/{action}", change_status, methods=["POST"],
                        response_model=AccountOut, responses=problem_responses(404, 409, 503),
                        summary=summary, name=f"{action}_account")

    status_route("freeze", "Freeze an account: it can neither send nor receive")
    status_route("unfreeze", "Unfreeze an account")
    status_route("close", "Close an account (only at a zero balance; final)")

    return r
