"""Phase 3 routes: pay-ins, payouts, refunds, webhooks, and their timelines.

A create answers 202 with the resource as accepted (PENDING) and its Location; that answer is
what a retry with the same Idempotency-Key replays. The provider is called after COMMIT, before
the answer is sent, so a GET right after usually shows its answer, and a webhook may already
have settled it: the resource's state and `history` are the truth, never the 202.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from fintech_core.api.deps import ContainerDep, IdempotencyKey
from fintech_core.api.json_body import JsonBodyRoute
from fintech_core.api.schemas import problem_responses
from fintech_core.api.text import Text
from fintech_core.auth.deps import public, require
from fintech_core.auth.guard import require_account, require_any_party
from fintech_core.auth.principals import Permission as P
from fintech_core.auth.principals import Principal
from fintech_core.idempotency.http import idempotent_post
from fintech_core.idempotency.ports import StoredResponse
from fintech_core.payments import drive, service, webhooks
from fintech_core.payments.effects import repo
from fintech_core.payments.errors import PaymentNotFound, PayoutNotFound
from fintech_core.payments.runtime import Runtime, lease_seconds, runtime_of
from fintech_core.payments.schemas import (
    PaymentIn,
    PaymentOut,
    PayoutIn,
    PayoutOut,
    RefundIn,
    RefundOut,
    WebhookAck,
    WebhookStat,
    snapshot,
)
from fintech_core.service.ports import UnitOfWork

ERRORS = problem_responses(400, 404, 409, 422, 503)
Payer = Annotated[Principal, Depends(require(P.PAYMENTS_CREATE_OWN))]
Reader = Annotated[Principal, Depends(require(P.TRANSFERS_READ_OWN))]
Operator = Annotated[Principal, Depends(require(P.OPS_READ))]


async def _accept(request: Request, rt: Runtime, principal: str, key: str, body: dict[str, Any],
                  create: Callable[[UnitOfWork], Awaitable[tuple[UUID, StoredResponse]]],
                  after: Callable[[Runtime, UUID], Awaitable[None]]) -> JSONResponse:
    created: list[UUID] = []

    async def operation(uow: UnitOfWork) -> StoredResponse:
        resource_id, response = await create(uow)
        created[:] = [resource_id]
        return response

    response = await idempotent_post(rt.c, request, principal, key, body, operation)
    if created:  # this request created it (a replay did not): drive it now
        await after(rt, created[0])
    return response


async def _reach(c: Any, caller: Principal, kind: str, resource_id: UUID, missing: Any,
                 permission: P = P.TRANSFERS_READ_OWN) -> None:
    """A payment or payout belongs to the holder of its account; anyone else gets `missing`."""
    async with c.uow_factory() as uow:
        row = await repo(uow).get(kind, resource_id)
    if row is None:
        raise missing
    await require_any_party(c.uow_factory, caller, permission, (row["account_id"],), missing)


def router() -> APIRouter:
    r = APIRouter(tags=["payments"], route_class=JsonBodyRoute)

    @r.post("/payments", status_code=202, response_model=PaymentOut, responses=ERRORS,
            summary="Top up an account through a provider (settles on its verified event)")
    async def create_payment(body: PaymentIn, request: Request, c: ContainerDep,
                             idempotency_key: IdempotencyKey, caller: Payer) -> JSONResponse:
        await require_account(c.uow_factory, caller, P.PAYMENTS_CREATE_OWN, body.account_id)

        async def create(uow: UnitOfWork) -> tuple[UUID, StoredResponse]:
            row = await service.create_payment(uow, body.account_id, body.provider, body.amount,
                                               body.currency, body.instrument,
                                               lease_seconds(c.settings))
            return row["id"], StoredResponse(202, snapshot(PaymentOut, row),
                                             {"Location": f"/payments/{row['id']}"})

        return await _accept(request, runtime_of(c), caller.subject, idempotency_key,
                             body.model_dump(mode="json"), create, drive.drive_payment)

    @r.get("/payments/webhooks/stats", response_model=list[WebhookStat], tags=["webhooks"],
           summary="Webhooks refused (forged, stale, malformed), duplicates, and accepted ones")
    async def webhook_stats(c: ContainerDep, caller: Operator) -> list[dict[str, Any]]:
        del caller  # the dependency is the check
        async with c.uow_factory() as uow:
            return await repo(uow).webhook_stats()  # type: ignore[no-any-return]

    @r.get("/payments/{payment_id}", response_model=PaymentOut, responses=ERRORS,
           summary="A pay-in with every state it took, each provider call, and its refunds")
    async def get_payment(payment_id: UUID, c: ContainerDep, caller: Reader) -> dict[str, Any]:
        missing = PaymentNotFound(f"payment {payment_id} does not exist",
                                  payment_id=str(payment_id))
        await _reach(c, caller, "payment", payment_id, missing)
        async with c.uow_factory() as uow:
            row = await repo(uow).get("payment", payment_id)
            if row is None:
                raise missing
            return snapshot(PaymentOut, row, history=await repo(uow).history(payment_id),
                            calls=await repo(uow).attempts(payment_id),
                            refunds=[snapshot(RefundOut, f, history=await repo(uow).history(
                                f["id"])) for f in await repo(uow).refunds_of(payment_id)])

    @r.post("/payments/{payment_id}/refunds", status_code=202, response_model=RefundOut,
            responses=ERRORS, summary="Refund a settled pay-in, fully or partly")
    async def refund(payment_id: UUID, request: Request, c: ContainerDep,
                     idempotency_key: IdempotencyKey, caller: Payer,
                     body: RefundIn | None = None) -> JSONResponse:
        await _reach(c, caller, "payment", payment_id, PaymentNotFound(
            f"payment {payment_id} does not exist", payment_id=str(payment_id)),
            P.PAYMENTS_CREATE_OWN)
        amount = body.amount if body else None

        async def create(uow: UnitOfWork) -> tuple[UUID, StoredResponse]:
            row = await service.create_refund(uow, payment_id, amount, lease_seconds(c.settings))
            return row["id"], StoredResponse(202, snapshot(RefundOut, row),
                                             {"Location": f"/payments/{payment_id}"})

        fields = body.model_dump(mode="json") if body else {}
        return await _accept(request, runtime_of(c), caller.subject, idempotency_key, fields,
                             create, drive.drive_refund)

    @r.post("/payouts", status_code=202, response_model=PayoutOut, responses=ERRORS,
            summary="Pay money out through a provider: hold, provider, then post or void")
    async def create_payout(body: PayoutIn, request: Request, c: ContainerDep,
                            idempotency_key: IdempotencyKey, caller: Payer) -> JSONResponse:
        await require_account(c.uow_factory, caller, P.PAYMENTS_CREATE_OWN, body.account_id)

        async def create(uow: UnitOfWork) -> tuple[UUID, StoredResponse]:
            row = await service.create_payout(uow, body.account_id, body.provider, body.amount,
                                              body.currency, body.destination,
                                              lease_seconds(c.settings))
            return row["id"], StoredResponse(202, snapshot(PayoutOut, row),
                                             {"Location": f"/payouts/{row['id']}"})

        async def after(rt: Runtime, payout_id: UUID) -> None:
            await c.faults.hit("payout.hold_placed")
            await drive.drive_payout(rt, payout_id)

        return await _accept(request, runtime_of(c), caller.subject, idempotency_key,
                             body.model_dump(mode="json"), create, after)

    @r.get("/payouts/{payout_id}", response_model=PayoutOut, responses=ERRORS,
           summary="A payout with its states, saga steps and provider calls")
    async def get_payout(payout_id: UUID, c: ContainerDep, caller: Reader) -> dict[str, Any]:
        missing = PayoutNotFound(f"payout {payout_id} does not exist", payout_id=str(payout_id))
        await _reach(c, caller, "payout", payout_id, missing)
        async with c.uow_factory() as uow:
            row = await repo(uow).get("payout", payout_id)
            if row is None:
                raise missing
            return snapshot(PayoutOut, row, history=await repo(uow).history(payout_id),
                            calls=await repo(uow).attempts(payout_id),
                            steps=await repo(uow).steps(payout_id))

    return r


def webhook_router() -> APIRouter:
    # Not JsonBodyRoute: the signature covers the raw bytes, which must reach the verifier
    # untouched (no JSON parsing, no re-serialisation) before anything reads them.
    r = APIRouter(tags=["webhooks"])

    @r.post("/webhooks/{provider}", response_model=WebhookAck,
            responses=problem_responses(400, 404, 503),
            summary="A provider's signed event: verified, deduplicated, applied, then 200")
    async def receive(provider: Text, request: Request, c: ContainerDep,
                      _: Annotated[None, Depends(public(
                          "authenticated by the provider's signature over the raw body, "
                          "not by a token"))]) -> WebhookAck:
        body = await request.body()
        outcome = await webhooks.ingest(runtime_of(c), provider, dict(request.headers), body)
        return WebhookAck(outcome=outcome)  # type: ignore[arg-type]

    return r
