"""`stripeish`: Stripe-shaped. Payment intents (not charges), lower-case currencies,
`metadata.reference`, 200 on creation, lists as {"object": "list", "data": [...]}, and webhooks
signed `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`: HMAC-SHA256 of "{t}.{body}" keyed
with the whole secret string ("whsec_..." as UTF-8 bytes, as Stripe does), one v1 per live
secret."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from fintech_core.provider_sim import engine
from fintech_core.provider_sim.http import Sim, operation
from fintech_core.provider_sim.personalities import common

NAME = "stripeish"
EVENT_TYPES = {"charge.succeeded": "payment_intent.succeeded",
               "charge.failed": "payment_intent.payment_failed",
               "charge.refunded": "charge.refunded",
               "payout.paid": "payout.paid", "payout.failed": "payout.failed"}
INTENT_STATUS = {"succeeded": "succeeded", "failed": "requires_payment_method",
                 "pending": "processing"}
OBJECT = {"charge": "payment_intent", "refund": "refund", "payout": "payout"}
Currency = Field(pattern=r"^[a-z]{3}$")


class Metadata(BaseModel):
    reference: str = Field(min_length=1, max_length=200)


class IntentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: StrictInt = Field(gt=0)
    currency: str = Currency
    metadata: Metadata
    payment_method: Literal["pm_card_ok", "pm_card_declined"]


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payment_intent: str = Field(min_length=1, max_length=100)
    amount: StrictInt = Field(gt=0)
    metadata: Metadata


class PayoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: StrictInt = Field(gt=0)
    currency: str = Currency
    metadata: Metadata
    destination: Literal["ba_ok", "ba_closed"]


def render(row: dict[str, Any]) -> dict[str, Any]:
    kind = row["kind"]
    out: dict[str, Any] = {
        "id": row["id"], "object": OBJECT[kind],
        "status": INTENT_STATUS[row["status"]] if kind == "charge" else row["status"],
        "amount": row["amount"], "currency": row["currency"].lower(),
        "metadata": {"reference": row["reference"]}}
    if kind == "charge":
        out["payment_method"] = row["instrument"]
        if row["status"] == "failed":
            out["last_payment_error"] = {"code": row["failure_code"]}
    elif kind == "refund":
        out["payment_intent"] = row["charge_id"]
    else:
        out["destination"] = row["instrument"]
        if row["status"] == "failed":
            out["failure_code"] = row["failure_code"]
    return out


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def webhook(event: dict[str, Any], secrets: tuple[str, ...], signed_at: int
            ) -> tuple[dict[str, str], bytes]:
    body = json.dumps({"id": event["id"], "object": "event", "type": EVENT_TYPES[event["type"]],
                       "created": int(event["created_at"].timestamp()),
                       "data": {"object": render(event["payload"])}},
                      separators=(",", ":")).encode()
    header = ",".join([f"t={signed_at}", *(f"v1={signature(s, signed_at, body)}" for s in secrets)])
    return {"Stripe-Signature": header, "content-type": "application/json"}, body


def router(sim: Sim) -> APIRouter:
    r = APIRouter(prefix="/stripeish/v1", tags=["stripeish"])

    @r.post("/payment_intents")
    async def create_intent(body: IntentIn, request: Request) -> Response:
        async def act(conn: Any, knobs: Any) -> tuple[int, dict[str, Any]]:
            row = await engine.create_charge(
                conn, NAME, amount=body.amount, currency=body.currency.upper(),
                reference=body.metadata.reference, instrument=body.payment_method,
                declined=knobs.decline or body.payment_method == "pm_card_declined",
                knobs=knobs)
            return 200, render(row)
        return await operation(sim, request, NAME, act)

    @r.post("/refunds")
    async def create_refund(body: RefundIn, request: Request) -> Response:
        async def act(conn: Any, knobs: Any) -> tuple[int, dict[str, Any]]:
            row = await engine.create_refund(conn, NAME, charge_id=body.payment_intent,
                                             amount=body.amount,
                                             reference=body.metadata.reference, knobs=knobs)
            return 200, render(row)
        return await operation(sim, request, NAME, act)

    @r.post("/payouts")
    async def create_payout(body: PayoutIn, request: Request) -> Response:
        async def act(conn: Any, knobs: Any) -> tuple[int, dict[str, Any]]:
            row = await engine.create_payout(
                conn, NAME, amount=body.amount, currency=body.currency.upper(),
                reference=body.metadata.reference, instrument=body.destination,
                closed=knobs.decline or body.destination == "ba_closed", knobs=knobs)
            return 200, render(row)
        return await operation(sim, request, NAME, act)

    for kind, plural in (("charge", "payment_intents"), ("refund", "refunds"),
                         ("payout", "payouts")):
        _gets(r, sim, kind, plural)

    @r.get("/settlements/{day}")
    async def settlement(day: date, request: Request, currency: str = "EUR") -> dict[str, Any]:
        return await common.settlement(sim, request, NAME, day, currency)

    return r


def _gets(r: APIRouter, sim: Sim, kind: str, plural: str) -> None:
    @r.get(f"/{plural}/{{object_id}}", name=f"get_{kind}")
    async def get_one(object_id: str, request: Request) -> dict[str, Any]:
        return await common.get_one(sim, request, NAME, kind, object_id, render)

    @r.get(f"/{plural}", name=f"list_{kind}")
    async def by_reference(reference: str, request: Request) -> dict[str, Any]:
        """{"object": "list", "data": [...]}: newest first, as Stripe lists."""
        found = await common.by_reference(sim, request, NAME, kind, reference, render)
        return {"object": "list", "data": found[::-1]}
