"""Helpers for the phase-3 tests: a session on the test servers, and webhooks signed the way
each personality signs them (with the lab's own secrets file, as the simulator does)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from fintech_core.provider_sim.secrets import load_or_create
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port
from fintech_core.stack.session import LabSession
from phases import composition
from tests.conftest import phase_database
from tests.helpers import new_key


def payments_session(lab: Lab, **settings: object) -> Iterator[LabSession]:
    phase_database(lab, 3)
    s = lab.settings.model_copy(update={"provider_port": free_port(), **settings})
    session = LabSession(composition(3), settings=s)
    yield session
    session.close()


def secrets_of(session: LabSession, provider: str) -> tuple[str, ...]:
    return load_or_create(session.lab.settings.lab_dir).of(provider).webhook_secrets


def charge_object(provider: str, reference: str, amount: int, status: str,
                  ref: str | None = None) -> dict[str, Any]:
    if provider == "ledgerpay":
        return {"id": ref or f"ch_{reference[-12:]}", "status": status, "amount": amount,
                "currency": "EUR", "reference": reference}
    word = {"succeeded": "succeeded", "failed": "requires_payment_method",
            "pending": "processing"}[status]
    return {"id": ref or f"pi_{reference[-12:]}", "object": "payment_intent", "status": word,
            "amount": amount, "currency": "eur", "metadata": {"reference": reference}}


def envelope(provider: str, event_id: str, obj: dict[str, Any], status: str) -> bytes:
    if provider == "ledgerpay":
        kind = {"succeeded": "charge.succeeded", "failed": "charge.failed",
                "pending": "charge.pending"}[status]
        body: dict[str, Any] = {"type": kind, "timestamp": datetime.now(UTC).isoformat(),
                                "data": obj}
    else:
        kind = {"succeeded": "payment_intent.succeeded",
                "failed": "payment_intent.payment_failed",
                "pending": "payment_intent.processing"}[status]
        body = {"id": event_id, "object": "event", "type": kind, "created": int(time.time()),
                "data": {"object": obj}}
    return json.dumps(body).encode()


def signed(provider: str, event_id: str, body: bytes, secrets: tuple[str, ...],
           at: float | None = None) -> dict[str, str]:
    at = time.time() if at is None else at
    if provider == "ledgerpay":
        when = datetime.fromtimestamp(at, tz=UTC)
        sigs = " ".join(Webhook(s).sign(event_id, when, body.decode()) for s in secrets)
        return {"webhook-id": event_id, "webhook-timestamp": str(int(at)),
                "webhook-signature": sigs, "content-type": "application/json"}
    t = int(at)
    v1 = ",".join(f"v1={hmac.new(s.encode(), f'{t}.'.encode() + body, hashlib.sha256).hexdigest()}"
                  for s in secrets)
    return {"Stripe-Signature": f"t={t},{v1}", "content-type": "application/json"}


def create_payment(api: str, account: str, amount: int, provider: str = "ledgerpay",
                   **extra: object) -> dict[str, Any]:
    r = httpx.post(f"{api}/payments", json={"account_id": account, "amount": amount,
                                            "currency": "EUR", "provider": provider, **extra},
                   headers={"Idempotency-Key": new_key()}, timeout=30)
    assert r.status_code == 202, r.text
    return r.json()  # type: ignore[no-any-return]


def verify_ledger(session: LabSession) -> None:
    """Money conserved: every currency sums to zero, every projection matches its postings."""
    rows = session.sql("SELECT currency, sum(posted), sum(pending_in) - sum(pending_out)"
                       " FROM ledger_accounts GROUP BY currency")
    assert all(r[1] == 0 and r[2] == 0 for r in rows), rows
    drift = session.sql(
        "SELECT l.id FROM ledger_accounts l LEFT JOIN (SELECT account_id,"
        " sum(signed_amount) FILTER (WHERE bucket = 'POSTED') AS posted FROM postings"
        " GROUP BY account_id) p ON p.account_id = l.id WHERE l.posted <> coalesce(p.posted, 0)")
    assert drift == [], drift
