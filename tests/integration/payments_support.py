"""Helpers for the phase-3 tests: a session on the test servers, and webhooks signed the way
each personality signs them (with the lab's own secrets file, as the simulator does)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from fintech_core.provider_sim.secrets import load_or_create
from fintech_core.stack.lab import Lab
from fintech_core.stack.session import LabSession
from phases import composition
from tests.conftest import phase_database
from tests.helpers import new_key


@contextlib.contextmanager
def _environ(**values: object) -> Iterator[None]:
    """FINCORE_* variables for every child process of the session (API, workers): Lab.env
    copies os.environ, and LabSession hands its flags to the API only."""
    names = {f"FINCORE_{k.upper()}": str(v) for k, v in values.items()}
    saved = {k: os.environ.get(k) for k in names}
    os.environ.update(names)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def payments_session(lab: Lab, simulator: bool = False,
                     **settings: object) -> Iterator[LabSession]:
    """A phase-3 session on the test servers, with its own simulator worker (LabSession gives
    it a free port and tells every child). Without `simulator` that worker is stopped: nothing
    listens on the provider port, every call fails, and payments stay UNKNOWN."""
    phase_database(lab, 3)
    with _environ(payments_lease_seconds=2, payments_poll_base_seconds=0.2,
                  payments_poll_max_seconds=2, **settings):
        session = LabSession(composition(3), settings=lab.settings)
        try:
            if not simulator:
                session.workers["provider"].stop()
            yield session
        finally:
            session.close()


class Sim:
    """The session's simulator: knobs and admin routes, with the lab's admin key."""

    def __init__(self, session: LabSession) -> None:
        self.lab_dir = session.lab.settings.lab_dir
        self.url = f"http://127.0.0.1:{session.lab.settings.provider_port}"

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        key = load_or_create(self.lab_dir).admin_key
        r = httpx.request(method, f"{self.url}/_admin{path}", timeout=10,
                          headers={"Authorization": f"Bearer {key}"}, **kwargs)
        if r.status_code != 200:  # the simulator's log says why
            logs = sorted((self.lab_dir / "logs").glob("provider-*.log"))
            tail = logs[-1].read_text()[-3000:] if logs else ""
            raise AssertionError(f"{r.status_code} {r.text}\n{tail}")
        return r.json()

    def knobs(self, **values: Any) -> Any:
        return self.admin("POST", "/knobs", json={"provider": "*", **values})

    def reset(self) -> Any:
        return self.admin("POST", "/reset")


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
