"""Phase 3 against a real provider simulator: a top-up completed by webhook, a payout paid, a
payout declined (hold voided), a timeout after the charge (UNKNOWN, resolved once, never a second
charge), a lost webhook repaired once by reconciliation, refunds. Money is conserved after each."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import wait_until
from fintech_core.stack.session import LabSession
from tests.helpers import new_key, open_account
from tests.integration.payments_support import Sim, create_payment, payments_session, verify_ledger

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def s(lab: Lab) -> Iterator[LabSession]:
    yield from payments_session(lab, simulator=True)


@pytest.fixture
def sim(s: LabSession) -> Iterator[Sim]:
    sim = Sim(s)
    sim.reset()
    yield sim
    sim.reset()


def _state(s: LabSession, kind: str, rid: str, want: str, timeout: float = 20) -> dict[str, Any]:
    def reached() -> bool:
        return bool(httpx.get(f"{s.url}/{kind}/{rid}").json()["state"] == want)
    wait_until(reached, timeout, 0.1)
    got: dict[str, Any] = httpx.get(f"{s.url}/{kind}/{rid}").json()
    calls = [(c["operation"], c["outcome"], c["detail"]) for c in got.get("calls", [])]
    assert got["state"] == want, (got["state"], calls)
    return got


def _available(s: LabSession, account: str) -> int:
    return int(s.sql("SELECT posted - pending_out FROM ledger_accounts WHERE id = %s",
                     (account,))[0][0])


def _payout(s: LabSession, account: str, amount: int, **extra: object) -> dict[str, Any]:
    r = httpx.post(f"{s.url}/payouts", json={"account_id": account, "amount": amount,
                                             "currency": "EUR", **extra},
                   headers={"Idempotency-Key": new_key()}, timeout=30)
    assert r.status_code == 202, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("provider", ["ledgerpay", "stripeish"])
def test_a_top_up_completes_by_webhook(s: LabSession, sim: Sim, provider: str) -> None:
    account = open_account(s.url)
    pid = create_payment(s.url, account, 2500, provider)["id"]
    got = _state(s, "payments", pid, "SETTLED")
    assert [(h["to_state"], h["cause"]) for h in got["history"]] == [
        ("PENDING", "api"), ("CAPTURED", "api"), ("SETTLED", "webhook")]
    assert _available(s, account) == 2500
    verify_ledger(s)


def test_a_declined_card_fails_and_moves_nothing(s: LabSession, sim: Sim) -> None:
    account = open_account(s.url)
    pid = create_payment(s.url, account, 2500, instrument="card_declined")["id"]
    got = _state(s, "payments", pid, "FAILED")
    assert got["failure_code"] and _available(s, account) == 0


@pytest.mark.parametrize("provider", ["ledgerpay", "stripeish"])
def test_a_payout_is_paid_and_its_hold_posted(s: LabSession, sim: Sim, provider: str) -> None:
    account = open_account(s.url, funded=5000)
    payout = _payout(s, account, 1200, provider=provider)
    assert payout["state"] == "PENDING" and _available(s, account) in (3800, 5000 - 1200)
    got = _state(s, "payouts", payout["id"], "SETTLED")
    assert [st["step"] for st in got["steps"]] == ["HOLD_PLACED", "PROVIDER_ANSWERED",
                                                   "HOLD_POSTED"]
    assert s.sql("SELECT status FROM transfers WHERE id = %s", (got["hold_id"],)) == [
        ("COMPLETED",)]
    assert _available(s, account) == 3800
    verify_ledger(s)


def test_a_declined_payout_voids_its_hold(s: LabSession, sim: Sim) -> None:
    account = open_account(s.url, funded=5000)
    payout = _payout(s, account, 1200, destination="account_closed")
    got = _state(s, "payouts", payout["id"], "FAILED")
    assert got["steps"][-1]["step"] == "HOLD_VOIDED"
    assert s.sql("SELECT status FROM transfers WHERE id = %s", (got["hold_id"],)) == [("VOIDED",)]
    assert _available(s, account) == 5000
    verify_ledger(s)


def test_a_payout_without_funds_is_refused_and_changes_nothing(s: LabSession, sim: Sim) -> None:
    account = open_account(s.url, funded=100)
    r = httpx.post(f"{s.url}/payouts", json={"account_id": account, "amount": 1200,
                                             "currency": "EUR"},
                   headers={"Idempotency-Key": new_key()}, timeout=30)
    assert r.status_code == 422 and r.json()["code"] == "insufficient-funds", r.text
    assert s.sql("SELECT count(*) FROM payouts WHERE account_id = %s", (account,)) == [(0,)]
    assert _available(s, account) == 100


def test_a_timeout_after_the_charge_is_unknown_then_resolved_once(s: LabSession,
                                                                  sim: Sim) -> None:
    account = open_account(s.url)
    sim.knobs(timeout="after", hang_ms=4000, lose_webhooks=True, times=1)
    pid = create_payment(s.url, account, 3100)["id"]
    first = httpx.get(f"{s.url}/payments/{pid}").json()
    assert first["calls"][0]["outcome"] == "timeout", (first["calls"], first["history"])
    assert first["history"][1]["to_state"] == "UNKNOWN", first
    got = _state(s, "payments", pid, "SETTLED")
    assert got["history"][-1]["cause"] == "poll"
    keys = {c["provider_key"] for c in got["calls"]}
    assert keys == {got["provider_key"]}  # every call, the create and the polls: one key
    assert _available(s, account) == 3100
    day = datetime.now(UTC).date().isoformat()
    charges = [line for line in _report(sim, "ledgerpay", day) if line["reference"] == pid]
    assert len(charges) == 1  # the provider charged once
    verify_ledger(s)


def _report(sim: Sim, provider: str, day: str) -> list[dict[str, Any]]:
    from fintech_core.provider_sim.secrets import load_or_create

    key = load_or_create(sim.lab_dir).of(provider).api_key
    r = httpx.get(f"{sim.url}/{provider}/v1/settlements/{day}",
                  headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["lines"]  # type: ignore[no-any-return]


def _reconcile(s: LabSession, day: str) -> list[dict[str, Any]]:
    env = s.lab.env(phase=3, provider_port=s.lab.settings.provider_port)
    out = subprocess.run([sys.executable, "-m", "phases.entrypoints", "payments", "reconcile",
                          "--date", day, "--json"], env=env, capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)["findings"]  # type: ignore[no-any-return]


def test_reconciliation_repairs_a_lost_webhook_once(s: LabSession, sim: Sim) -> None:
    account = open_account(s.url)
    sim.knobs(lose_webhooks=True)
    pid = create_payment(s.url, account, 4200)["id"]
    _state(s, "payments", pid, "CAPTURED")
    assert _available(s, account) == 0  # the provider charged; no verified event reached us
    day = datetime.now(UTC).date().isoformat()
    first = [f for f in _reconcile(s, day) if f["reference"] == pid]
    assert [(f["category"], f["action"]) for f in first] == [("missing-in-ledger", "repaired")]
    got = _state(s, "payments", pid, "SETTLED")
    assert got["history"][-1]["cause"] == "reconcile"
    assert _available(s, account) == 4200
    second = [f for f in _reconcile(s, day) if f["reference"] == pid]
    assert [(f["category"], f["action"]) for f in second] == [("matched", "none")]
    assert _available(s, account) == 4200
    verify_ledger(s)


def test_full_and_partial_refunds(s: LabSession, sim: Sim) -> None:
    account = open_account(s.url)
    pid = create_payment(s.url, account, 1000)["id"]
    _state(s, "payments", pid, "SETTLED")
    url = f"{s.url}/payments/{pid}/refunds"
    part = httpx.post(url, json={"amount": 300}, headers={"Idempotency-Key": new_key()},
                      timeout=30)
    assert part.status_code == 202, part.text
    _state(s, "payments", pid, "PARTIALLY_REFUNDED")
    over = httpx.post(url, json={"amount": 800}, headers={"Idempotency-Key": new_key()},
                      timeout=30)
    assert over.status_code == 422 and over.json()["code"] == "refund-exceeds-payment"
    rest = httpx.post(url, json={}, headers={"Idempotency-Key": new_key()}, timeout=30)
    assert rest.status_code == 202 and rest.json()["amount"] == 700, rest.text
    got = _state(s, "payments", pid, "REFUNDED")
    assert got["refunded"] == 1000 and _available(s, account) == 0
    verify_ledger(s)
