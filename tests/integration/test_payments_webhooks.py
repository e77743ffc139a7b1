"""Phase 3 webhooks on the real stack: signatures of both personalities, the inbox under
concurrent duplicates, out-of-order events. The provider is unreachable here (its port is free),
so each payment is UNKNOWN until a webhook signed with the lab's secrets settles it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from fintech_core.provider_sim.secrets import new_webhook_secret, rotate
from fintech_core.stack.lab import Lab
from fintech_core.stack.session import LabSession
from tests.helpers import open_account
from tests.integration.payments_support import (
    charge_object,
    create_payment,
    envelope,
    payments_session,
    secrets_of,
    signed,
    verify_ledger,
)

pytestmark = pytest.mark.integration
PROVIDERS = ("ledgerpay", "stripeish")


@pytest.fixture(scope="module")
def s(lab: Lab) -> Iterator[LabSession]:
    yield from payments_session(lab)


def _event(provider: str) -> str:
    return f"msg_{uuid.uuid4().hex}" if provider == "ledgerpay" else f"evt_{uuid.uuid4().hex}"


def _post(s: LabSession, provider: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{s.url}/webhooks/{provider}", content=body, headers=headers, timeout=30)


def _unknown_payment(s: LabSession, provider: str, amount: int = 1500) -> tuple[str, str]:
    account = open_account(s.url)
    payment = create_payment(s.url, account, amount, provider)
    state = s.sql("SELECT state FROM payments WHERE id = %s", (payment["id"],))[0][0]
    assert state == "UNKNOWN"  # nobody listens on the provider port: no answer, no guess
    return account, str(payment["id"])


def _balance(s: LabSession, account: str) -> int:
    return int(s.sql("SELECT posted FROM ledger_accounts WHERE id = %s", (account,))[0][0])


def _rejections(s: LabSession, provider: str, reason: str) -> int:
    rows = s.sql("SELECT count FROM webhook_rejections WHERE provider = %s AND reason = %s",
                 (provider, reason))
    return int(rows[0][0]) if rows else 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_valid_webhook_settles_once_into_the_ledger(s: LabSession, provider: str) -> None:
    account, pid = _unknown_payment(s, provider)
    event = _event(provider)
    body = envelope(provider, event, charge_object(provider, pid, 1500, "succeeded"), "succeeded")
    r = _post(s, provider, body, signed(provider, event, body, secrets_of(s, provider)))
    assert r.status_code == 200 and r.json() == {"outcome": "applied"}, r.text
    again = _post(s, provider, body, signed(provider, event, body, secrets_of(s, provider)))
    assert again.status_code == 200 and again.json() == {"outcome": "duplicate"}
    got = httpx.get(f"{s.url}/payments/{pid}").json()
    assert got["state"] == "SETTLED" and got["ledger_transfer_id"]
    assert [h["to_state"] for h in got["history"]] == ["PENDING", "UNKNOWN", "SETTLED"]
    assert got["history"][-1]["cause"] == "webhook"
    assert _balance(s, account) == 1500
    verify_ledger(s)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("case", ["wrong-secret", "stale", "tampered-body"])
def test_a_bad_webhook_changes_nothing_and_is_counted(s: LabSession, provider: str,
                                                       case: str) -> None:
    account, pid = _unknown_payment(s, provider)
    event = _event(provider)
    body = envelope(provider, event, charge_object(provider, pid, 1500, "succeeded"), "succeeded")
    secrets = secrets_of(s, provider)
    if case == "wrong-secret":
        headers = signed(provider, event, body, (new_webhook_secret(),))
    elif case == "stale":
        headers = signed(provider, event, body, secrets, at=time.time() - 400)
    else:
        headers = signed(provider, event, body, secrets)
        body = body.replace(b"1500", b"9500")
    reason = "stale" if case == "stale" else "forged"
    before = _rejections(s, provider, reason)
    r = _post(s, provider, body, headers)
    code = "webhook-timestamp-stale" if case == "stale" else "webhook-signature-invalid"
    assert r.status_code == 400 and r.json()["code"] == code, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert s.sql("SELECT state FROM payments WHERE id = %s", (pid,)) == [("UNKNOWN",)]
    assert s.sql("SELECT count(*) FROM provider_inbox WHERE object_ref LIKE %s",
                 (f"%{pid[-12:]}",)) == [(0,)]
    assert _balance(s, account) == 0
    assert _rejections(s, provider, reason) == before + 1
    stats = httpx.get(f"{s.url}/payments/webhooks/stats").json()
    assert {"provider": provider, "reason": reason, "count": before + 1} in stats


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_rotated_secret_verifies_without_a_restart(s: LabSession, provider: str) -> None:
    account, pid = _unknown_payment(s, provider)
    # The API has read the secrets already; the rotation happens behind its back, and the
    # webhook is signed with the new secret only: the API re-reads the file and accepts it.
    newest = rotate(s.lab.settings.lab_dir, provider).of(provider).webhook_secrets[0]
    event = _event(provider)
    body = envelope(provider, event, charge_object(provider, pid, 1500, "succeeded"), "succeeded")
    r = _post(s, provider, body, signed(provider, event, body, (newest,)))
    assert r.status_code == 200 and r.json()["outcome"] == "applied", r.text
    assert _balance(s, account) == 1500


@pytest.mark.parametrize("provider", PROVIDERS)
def test_concurrent_duplicate_deliveries_have_one_effect(s: LabSession, provider: str) -> None:
    account, pid = _unknown_payment(s, provider, 700)
    event = _event(provider)
    body = envelope(provider, event, charge_object(provider, pid, 700, "succeeded"), "succeeded")
    headers = signed(provider, event, body, secrets_of(s, provider))
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: _post(s, provider, body, headers), range(20)))
    assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers]
    outcomes = sorted(a.json()["outcome"] for a in answers)
    assert outcomes == ["applied"] + ["duplicate"] * 19
    assert _balance(s, account) == 700
    assert s.sql("SELECT count(*) FROM transfers WHERE destination_id = %s", (account,)) == [(1,)]
    verify_ledger(s)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_events_out_of_order_never_move_a_payment_backwards(s: LabSession,
                                                           provider: str) -> None:
    account, pid = _unknown_payment(s, provider, 900)
    secrets, ref = secrets_of(s, provider), None
    answers = []
    for status in ("succeeded", "pending", "failed"):  # newest first, as a reordering sender
        event = _event(provider)
        obj = charge_object(provider, pid, 900, status)
        ref = ref or obj["id"]
        body = envelope(provider, event, obj, status)
        answers.append(_post(s, provider, body, signed(provider, event, body, secrets)).json())
    assert [a["outcome"] for a in answers] == ["applied", "no-change", "no-change"]
    assert s.sql("SELECT state FROM payments WHERE id = %s", (pid,)) == [("SETTLED",)]
    assert _balance(s, account) == 900
    verify_ledger(s)


def test_unknown_provider_and_unmatched_reference(s: LabSession) -> None:
    r = _post(s, "paypal", b"{}", {"content-type": "application/json"})
    assert r.status_code == 404 and r.json()["code"] == "unknown-provider"
    event = _event("ledgerpay")
    body = envelope("ledgerpay", event, charge_object("ledgerpay", str(uuid.uuid4()), 10,
                                                      "succeeded"), "succeeded")
    r = _post(s, "ledgerpay", body, signed("ledgerpay", event, body, secrets_of(s, "ledgerpay")))
    assert r.status_code == 200 and r.json()["outcome"] == "unmatched"
