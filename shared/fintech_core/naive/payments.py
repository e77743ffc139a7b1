"""THE DELIBERATELY BROKEN PAYMENTS BASELINE, mounted only with FINCORE_NAIVE_BASELINE=true.

The payment code a first version ships, kept so the phase-3 drills can play the same provider
fault against it and against phase 3. It talks to the same provider simulator through the same
adapters (payments/adapters), and gets every one of the phase's lessons wrong, on purpose:
- top-up: a NEW Idempotency-Key per attempt, and a retry after a timeout, so a charge that
  succeeded behind the timeout is charged again (two charges for one top-up);
- webhooks: no signature check, no inbox, no state guard: every delivery is applied, a
  duplicate credits again, a forged one credits, an old event moves the state backwards;
- no reconciliation: a lost webhook is money the provider collected and we never credit;
- payout: no hold and no saga: the balance is debited, then the provider is called; a crash in
  between, or a payout that fails, leaves the customer debited for nothing.
Floats for money, like the naive transfer. Do not copy any of it.

Its one table is created on first use (the baseline predates the migrations it would need).
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

import orjson
import psycopg
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from fintech_core.api.deps import ContainerDep
from fintech_core.naive.routes import NAIVE_IS_PUBLIC
from fintech_core.payments.adapters import ledgerpay, stripeish
from fintech_core.payments.ports import ProviderObject, ProviderTimeout, ProviderUnavailable
from fintech_core.payments.runtime import runtime_of

REFERENCE_PREFIX = "naive-"  # what tells a naive webhook apart (naive/webhook_divert.py)
TABLE = """CREATE TABLE IF NOT EXISTS naive_payments (
    reference text PRIMARY KEY, kind text NOT NULL, parent text, account_id bigint NOT NULL,
    provider text NOT NULL, amount double precision NOT NULL, state text NOT NULL,
    provider_ref text, created_at timestamptz NOT NULL DEFAULT clock_timestamp())"""
_created: set[str] = set()
Provider = Literal["ledgerpay", "stripeish"]


# Declared by phase 3 beside the saga's points (Phase.fault_points).
FAULT_POINTS = {
    "naive.payout_debited": "naive baseline: the payout's debit is saved, the provider not called",
}


class NaiveTopUpIn(BaseModel):
    account_id: int
    amount: float
    provider: Provider = "ledgerpay"
    tries: int = 3  # "the provider is flaky, just try again"


class NaivePayoutIn(BaseModel):
    account_id: int
    amount: float
    provider: Provider = "ledgerpay"
    destination: Literal["account_ok", "account_closed"] = "account_ok"


async def _db(url: str) -> psycopg.AsyncConnection[Any]:
    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    if url not in _created:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('naive_payments'))")
            await conn.execute(TABLE)
        _created.add(url)
    return conn


def _object(provider: str, body: bytes) -> ProviderObject:
    """Read the event as if it were true: json.loads, no signature, no timestamp."""
    data = orjson.loads(body)["data"]
    if provider == "stripeish":
        return stripeish.to_object(data["object"])
    return ledgerpay.to_object(data)


def router() -> APIRouter:
    r = APIRouter(prefix="/naive", tags=["naive baseline (deliberately broken)"],
                  dependencies=[Depends(NAIVE_IS_PUBLIC)])

    @r.post("/topups")
    async def top_up(body: NaiveTopUpIn, c: ContainerDep) -> dict[str, object]:
        reference = f"{REFERENCE_PREFIX}{uuid.uuid4()}"
        adapter = runtime_of(c).provider(body.provider)
        async with await _db(c.database_url) as db:
            await db.execute("INSERT INTO naive_payments (reference, kind, account_id, provider,"
                             " amount, state) VALUES (%s, 'topup', %s, %s, %s, 'pending')",
                             (reference, body.account_id, body.provider, body.amount))
            for attempt in range(1, body.tries + 1):
                try:  # a fresh key per attempt: the provider cannot know it is a retry
                    obj = await adapter.charge(uuid.uuid4().hex, reference, int(body.amount),
                                               "EUR", "card_ok")
                except (ProviderTimeout, ProviderUnavailable):
                    continue
                await db.execute("UPDATE naive_payments SET provider_ref = %s"
                                 " WHERE reference = %s", (obj.ref, reference))
                return {"ok": True, "reference": reference, "attempts": attempt}
        raise HTTPException(502, "the provider did not answer")

    @r.post("/topups/{reference}/refund")
    async def refund(reference: str, c: ContainerDep) -> dict[str, object]:
        async with await _db(c.database_url) as db:
            row = await (await db.execute("SELECT provider, amount, provider_ref, account_id"
                                          " FROM naive_payments WHERE reference = %s",
                                          (reference,))).fetchone()
            if row is None:
                raise HTTPException(404, "no such top-up")
            provider, amount, charge, account = row
            refund_ref = f"{REFERENCE_PREFIX}{uuid.uuid4()}"
            await db.execute("INSERT INTO naive_payments (reference, kind, parent, account_id,"
                             " provider, amount, state) VALUES (%s, 'refund', %s, %s, %s, %s,"
                             " 'pending')", (refund_ref, reference, account, provider, amount))
            # No look at the top-up's state: the provider knows best, surely.
            await runtime_of(c).provider(provider).refund(uuid.uuid4().hex, refund_ref, charge,
                                                          int(amount))
        return {"ok": True, "reference": refund_ref}

    @r.post("/payouts")
    async def payout(body: NaivePayoutIn, c: ContainerDep) -> dict[str, object]:
        reference = f"{REFERENCE_PREFIX}{uuid.uuid4()}"
        async with await _db(c.database_url) as db:
            await db.execute("INSERT INTO naive_payments (reference, kind, account_id, provider,"
                             " amount, state) VALUES (%s, 'payout', %s, %s, %s, 'pending')",
                             (reference, body.account_id, body.provider, body.amount))
            # Debit first, call the provider next: two steps, nothing records the second is due.
            await db.execute("UPDATE naive_accounts SET balance = balance - %s WHERE id = %s",
                             (body.amount, body.account_id))
            await c.faults.hit("naive.payout_debited")
            obj = await runtime_of(c).provider(body.provider).payout(
                uuid.uuid4().hex, reference, int(body.amount), "EUR", body.destination)
            await db.execute("UPDATE naive_payments SET provider_ref = %s WHERE reference = %s",
                             (obj.ref, reference))
        return {"ok": True, "reference": reference}

    @r.post("/webhooks/{provider}")
    async def webhook(provider: Provider, request: Request, c: ContainerDep) -> dict[str, object]:
        obj = _object(provider, await request.body())
        async with await _db(c.database_url) as db:
            await _apply(db, obj)
        return {"ok": True}

    return r


async def _apply(db: psycopg.AsyncConnection[Any], obj: ProviderObject) -> None:
    """Whatever the event says, now: no dedupe, no order, no check that we sent it."""
    found = await (await db.execute("SELECT kind, parent, account_id FROM naive_payments"
                                    " WHERE reference = %s", (obj.reference,))).fetchone()
    if found is None:
        return
    kind, parent, account = found
    status = obj.status.value

    async def move(amount: float) -> None:
        await db.execute("UPDATE naive_accounts SET balance = balance + %s WHERE id = %s",
                         (amount, account))

    if kind == "topup":
        await db.execute("UPDATE naive_payments SET state = %s WHERE reference = %s",
                         (status, obj.reference))
        if status == "succeeded":
            await move(obj.amount)  # the event's amount, every time it arrives
    elif kind == "refund" and status == "succeeded":
        was = await (await db.execute("SELECT state FROM naive_payments WHERE reference = %s",
                                      (parent,))).fetchone()
        await db.execute("UPDATE naive_payments SET state = 'refunded' WHERE reference = %s",
                         (parent,))
        if was is not None and was[0] == "succeeded":  # take back only what was credited
            await move(-obj.amount)
    elif kind == "payout":
        # paid or failed, it is only a label: a failed payout's money is never given back.
        await db.execute("UPDATE naive_payments SET state = %s WHERE reference = %s",
                         (status, obj.reference))
