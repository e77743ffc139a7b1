"""Request and response bodies of the payments routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from fintech_core.api.schemas import Amount, CurrencyCode, Strict

Provider = Literal["ledgerpay", "stripeish"]


class PaymentIn(Strict):
    account_id: UUID
    amount: Amount
    currency: CurrencyCode
    provider: Provider = "ledgerpay"
    instrument: Literal["card_ok", "card_declined"] = Field(
        default="card_ok", description="The simulator's test card: card_declined fails.")


class PayoutIn(Strict):
    account_id: UUID
    amount: Amount
    currency: CurrencyCode
    provider: Provider = "ledgerpay"
    destination: Literal["account_ok", "account_closed"] = Field(
        default="account_ok", description="The simulator's test bank account: account_closed "
                                          "fails after the provider accepted the payout.")


class RefundIn(Strict):
    amount: Amount | None = Field(default=None, description="Omitted: what is left to refund.")


class StateChange(BaseModel):
    from_state: str | None
    to_state: str
    cause: str
    at: datetime


class Attempt(BaseModel):
    operation: str
    provider_key: str
    outcome: str
    provider_status: str | None
    detail: str | None
    started_at: datetime
    finished_at: datetime


class Resource(BaseModel):
    id: UUID
    account_id: UUID
    provider: str
    amount: int
    currency: str
    state: str
    provider_key: str = Field(description="The Idempotency-Key we send the provider: the same "
                              "for every attempt, so it never acts twice.")
    provider_ref: str | None
    failure_code: str | None
    created_at: datetime
    updated_at: datetime
    history: list[StateChange] = []
    calls: list[Attempt] = Field(default=[], description="Every call to the provider, with "
                                 "the key sent: the same key on every attempt.")


class PaymentOut(Resource):
    refunded: int
    ledger_transfer_id: UUID | None
    refunds: list[dict[str, Any]] = []


class PayoutOut(Resource):
    destination: str
    step: str
    hold_id: UUID
    steps: list[dict[str, Any]] = []


class RefundOut(Resource):
    payment_id: UUID
    hold_id: UUID


def snapshot(model: type[Resource], row: dict[str, Any], **extra: Any) -> dict[str, Any]:
    fields = {k: v for k, v in row.items() if k in model.model_fields}
    return model.model_validate({**fields, **extra}).model_dump(mode="json")


class WebhookAck(BaseModel):
    outcome: Literal["applied", "no-change", "unmatched", "duplicate"]


class WebhookStat(BaseModel):
    provider: str
    reason: str = Field(description="forged, stale, malformed, duplicate; or accepted:<outcome>")
    count: int
