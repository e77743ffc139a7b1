"""The payout saga survives a kill of the API at each of its steps: the payments worker (a
process of its own) resumes it with the same provider key, the provider pays once, the hold ends
posted, and the ledger balances."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from fintech_core.drills import inject
from fintech_core.provider_sim.secrets import load_or_create
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import wait_until
from fintech_core.stack.session import LabSession
from tests.helpers import new_key, open_account
from tests.integration.payments_support import Sim, payments_session, verify_ledger

pytestmark = pytest.mark.integration
POINTS = ["payout.hold_placed", "payout.provider_called", "payout.provider_answered",
          "payout.posted"]


@pytest.fixture(scope="module")
def s(lab: Lab) -> Iterator[LabSession]:
    yield from payments_session(lab, simulator=True)


@pytest.mark.parametrize("point", POINTS)
def test_the_saga_resumes_after_a_kill_at_each_step(s: LabSession, point: str) -> None:
    sim = Sim(s)
    sim.reset()
    if s.api.running_pid() is None:
        s.restart_api()
    account = open_account(s.url, funded=5000)
    r = httpx.post(f"{s.url}/_drill/faults", json={"point": point, "action": "crash"})
    assert r.status_code == 204, r.text
    with contextlib.suppress(httpx.TransportError):  # killed before answering, as armed
        httpx.post(f"{s.url}/payouts", json={"account_id": account, "amount": 1200,
                                             "currency": "EUR"},
                   headers={"Idempotency-Key": new_key()}, timeout=30)
    inject.wait_for("the API process to exit", lambda: s.api.running_pid() is None)
    s.restart_api()
    [(payout_id, hold_id)] = s.sql("SELECT id::text, hold_id FROM payouts WHERE account_id = %s",
                                   (account,))
    assert wait_until(lambda: s.sql("SELECT state FROM payouts WHERE id = %s", (payout_id,))
                      == [("SETTLED",)], 40, 0.2), s.sql(
        "SELECT state, step, attempts FROM payouts WHERE id = %s", (payout_id,))
    assert s.sql("SELECT status FROM transfers WHERE id = %s", (hold_id,)) == [("COMPLETED",)]
    assert s.sql("SELECT posted, pending_out FROM ledger_accounts WHERE id = %s",
                 (account,)) == [(3800, 0)]
    keys = s.sql("SELECT DISTINCT provider_key FROM payment_attempts WHERE resource_id = %s",
                 (payout_id,))
    # Every recorded call sent our one key. None may be recorded: killed at
    # payout.provider_called, the API never wrote its answer, and the provider's payout.paid
    # webhook can settle the payout before the worker's lease on it expires (then the worker
    # finds it SETTLED and calls nobody). Either way the provider paid once, checked below.
    assert keys in ([], [(f"fcl-payout-{payout_id}",)]), keys
    day = datetime.now(UTC).date().isoformat()
    api_key = load_or_create(sim.lab_dir).of("ledgerpay").api_key
    report = httpx.get(f"{sim.url}/ledgerpay/v1/settlements/{day}",
                       headers={"Authorization": f"Bearer {api_key}"}, timeout=10).json()
    paid = [line for line in report["lines"] if line["reference"] == payout_id]
    assert len(paid) == 1 and paid[0]["amount"] == 1200  # the provider paid once
    verify_ledger(s)
