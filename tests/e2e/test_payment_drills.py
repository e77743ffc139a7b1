"""The phase-3 payment drills on the real stack (API, payments worker, provider simulator),
naive baseline and phase 3 side by side.

The naive baseline must break the way each drill teaches and phase 3 must hold; the drill's
verdict is not trusted alone: each test asks PostgreSQL with its own SQL about the accounts
and payments the drill used.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fintech_core.drills.report import SideReport
from fintech_core.stack.lab import Lab
from fintech_core.stack.session import LabSession
from tests.e2e.drill_support import play
from tests.integration.payments_support import payments_session

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def s(lab: Lab) -> Iterator[LabSession]:
    yield from payments_session(lab, simulator=True)


def naive_balance(s: LabSession, side: SideReport) -> float:
    rows = s.sql("SELECT balance FROM naive_accounts WHERE id = %s", (int(side.accounts["alice"]),))
    return float(rows[0][0])  # type: ignore[arg-type]


def phase_balance(s: LabSession, side: SideReport) -> int:
    rows = s.sql("SELECT balance FROM accounts WHERE id = %s::uuid", (side.accounts["alice"],))
    return int(rows[0][0])  # type: ignore[call-overload]


def phase_rows(s: LabSession, side: SideReport, table: str) -> list[tuple[object, ...]]:
    return s.sql(f"SELECT id, state FROM {table} WHERE account_id = %s::uuid",
                 (side.accounts["alice"],))


def test_provider_timeout_after_charge(s: LabSession) -> None:
    naive, phase = play(s, "provider-timeout-after-charge")
    assert naive.headline["provider"]["charges"] == 2 and naive_balance(s, naive) == 200
    [(pid, state)] = phase_rows(s, phase, "payments")
    assert state == "SETTLED" and phase_balance(s, phase) == 100
    keys = s.sql("SELECT DISTINCT provider_key FROM payment_attempts WHERE resource_id = %s",
                 (pid,))
    assert len(keys) == 1  # every call for this payment carried the same key
    assert phase.headline["provider"]["charges"] == 1


def test_webhook_delivered_thrice(s: LabSession) -> None:
    naive, phase = play(s, "webhook-delivered-thrice")
    assert naive_balance(s, naive) == 300
    [(pid, state)] = phase_rows(s, phase, "payments")
    assert state == "SETTLED" and phase_balance(s, phase) == 100
    assert s.sql("SELECT count(*) FROM provider_inbox WHERE reference = %s", (str(pid),)) == [(1,)]


def test_webhooks_out_of_order(s: LabSession) -> None:
    naive, phase = play(s, "webhooks-out-of-order")
    assert naive_balance(s, naive) == 100  # refunded at the provider, credited here anyway
    assert s.sql("SELECT state FROM naive_payments WHERE kind = 'topup' AND account_id = %s",
                 (int(naive.accounts["alice"]),)) == [("succeeded",)]
    [(pid, state)] = phase_rows(s, phase, "payments")
    assert state == "REFUNDED" and phase_balance(s, phase) == 0
    outcomes = s.sql("SELECT outcome FROM provider_inbox WHERE reference = %s AND source ="
                     " 'webhook'", (str(pid),))
    assert outcomes == [("no-change",)]  # the late charge.succeeded changed nothing


def test_forged_signature(s: LabSession) -> None:
    naive, phase = play(s, "forged-signature")
    assert naive_balance(s, naive) == 100
    [(pid, state)] = phase_rows(s, phase, "payments")
    assert state == "CAPTURED" and phase_balance(s, phase) == 0
    assert s.sql("SELECT count(*) FROM provider_inbox WHERE reference = %s", (str(pid),)) == [(0,)]
    assert phase.headline["refused"] >= 1


def test_lost_webhook(s: LabSession) -> None:
    naive, phase = play(s, "lost-webhook")
    assert naive_balance(s, naive) == 0 and naive.headline["provider"]["charge"] == 100
    [(pid, state)] = phase_rows(s, phase, "payments")
    assert state == "SETTLED" and phase_balance(s, phase) == 100
    assert s.sql("SELECT source FROM provider_inbox WHERE reference = %s",
                 (str(pid),)) == [("reconcile",)]


def test_crash_between_hold_and_provider_call(s: LabSession) -> None:
    naive, phase = play(s, "crash-between-hold-and-provider-call")
    assert naive_balance(s, naive) == 800 and naive.headline["provider"]["payout"] == 100
    [(oid, state)] = phase_rows(s, phase, "payouts")
    assert state == "SETTLED" and phase_balance(s, phase) == 900
    assert s.sql("SELECT t.status FROM payouts p JOIN transfers t ON t.id = p.hold_id"
                 " WHERE p.id = %s", (oid,)) == [("COMPLETED",)]


def test_payout_declined(s: LabSession) -> None:
    naive, phase = play(s, "payout-declined")
    assert naive_balance(s, naive) == 900
    [(oid, state)] = phase_rows(s, phase, "payouts")
    assert state == "FAILED" and phase_balance(s, phase) == 1000
    assert s.sql("SELECT t.status FROM payouts p JOIN transfers t ON t.id = p.hold_id"
                 " WHERE p.id = %s", (oid,)) == [("VOIDED",)]
