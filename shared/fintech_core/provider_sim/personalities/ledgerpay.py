"""`ledgerpay`: charges, refunds, payouts under /ledgerpay/v1; webhooks signed with Standard
Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<b64> [v1,<b64> ...]`, one
signature per live secret, produced by the `standardwebhooks` package itself)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from standardwebhooks.webhooks import Webhook

from fintech_core.provider_sim import engine
from fintech_core.provider_sim.http import Sim, operation
from fintech_core.provider_sim.personalities import common
from fintech_core.provider_sim.problems import Problem

NAME = "ledgerpay"
Reference = Field(min_length=1, max_length=200)
Currency = Field(pattern=r"^[A-Z]{3}$")


class ChargeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: StrictInt = Field(gt=0)
    currency: str = Currency
    reference: str = Reference
    source: Literal["card_ok", "card_declined"]


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    charge: str = Field(min_length=1, max_length=100)
    amount: StrictInt = Field(gt=0)
    reference: str = Reference


class PayoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: StrictInt = Field(gt=0)
    currency: str = Currency
    reference: str = Reference
    destination: Literal["iban_ok", "iban_closed"]


def render(row: dict[str, Any]) -> dict[str, Any]:
    """The object as GET returns it (and as a webhook's `data` carries it)."""
    out: dict[str, Any] = {"id": row["id"], "status": row["status"], "amount": row["amount"],
                           "currency": row["currency"], "reference": row["reference"]}
    if row["kind"] == "refund":
        out["charge"] = row["charge_id"]
    if row["kind"] == "payout":
        out["destination"] = row["instrument"]
    if row["status"] == "failed":
        out["failure_code"] = row["failure_code"]
    return out


def webhook(event: dict[str, Any], secrets: tuple[str, ...], signed_at: int
            ) -> tuple[dict[str, str], bytes]:
    """Headers and the exact body bytes of one delivery attempt."""
    body = engine_json({"type": event["type"], "timestamp": event["created_at"].isoformat(),
                        "data": render(event["payload"])})
    at = datetime.fromtimestamp(signed_at, tz=UTC)
    signatures = " ".join(Webhook(s).sign(event["id"], at, body) for s in secrets)
    return ({"webhook-id": event["id"], "webhook-timestamp": str(signed_at),
             "webhook-signature": signatures, "content-type": "application/json"},
            body.encode())


def engine_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def router(sim: Sim) -> APIRouter:
    r = APIRouter(prefix="/ledgerpay/v1", tags=["ledgerpay"])

    @r.post("/charges", status_code=201)
    async def create_charge(body: ChargeIn, request: Request) -> Response:
        async def act(conn: Any, knobs: Any) -> tuple[int, dict[str, Any]]:
            row = await engine.create_charge(
                conn, NAME, amount=body.amount, currency=body.currency,
                reference=body.reference, instrument=body.source,
                declined=knobs.decline or body.source == "card_declined", knobs=knobs)
            return 201, render(row)
        return await operation(sim, request, NAME, act)

    @r.post("/refunds", status_code=201)
    async def create_refund(body: RefundIn, request: Request) -> Response:
        async def act(conn: Any, knobs: Any) -> tuple[int, dict[str, Any]]:
            row = await engine.create_refund(conn, NAME, charge_id=body.charge,
                                             amount=body.amount, reference=body.reference,
                                             knobs=knobs)
            return 201, render(row)
        return await operation(sim, request, NAME, act)

    @r.post("/payouts", status_code=201)
    async def create_payout(body: PayoutIn, request: Request) -> Response:
        async def act(conn: Any, knobs: Any) -> tuple[int, dict[str, Any]]:
            row = await engine.create_payout(
                conn, NAME, amount=body.amount, currency=body.currency,
                reference=body.reference, instrument=body.destination,
                closed=knobs.decline or body.destination == "iban_closed", knobs=knobs)
            return 201, render(row)
        return await operation(sim, request, NAME, act)

    for kind, plural in (("charge", "charges"), ("refund", "refunds"), ("payout", "payouts")):
        _gets(r, sim, kind, plural)

    @r.get("/settlements/{day}")
    async def settlement(day: date, request: Request, currency: str = "EUR") -> dict[str, Any]:
        return await common.settlement(sim, request, NAME, day, currency)

    return r


def _gets(r: APIRouter, sim: Sim, kind: str, plural: str) -> None:
    @r.get(f"/{plural}/{{object_id}}", name=f"get_{kind}")
    async def get_one(object_id: str, request: Request) -> dict[str, Any]:
        return await common.get_one(sim, request, NAME, kind, object_id, render)

    @r.get(f"/{plural}", name=f"find_{kind}")
    async def by_reference(reference: str, request: Request) -> dict[str, Any]:
        """The newest object with that reference (a status poll), 404 if none."""
        found = await common.by_reference(sim, request, NAME, kind, reference, render)
        if not found:
            raise Problem("not-found", f"no {kind} with reference {reference!r}")
        return found[-1]
