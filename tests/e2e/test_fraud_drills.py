"""Phase 5's fraud drills on the real stack (API, PostgreSQL, the lab's Redis), naive baseline and
phase 5 side by side.

The naive baseline must break the way each drill teaches and phase 5 must hold. The drill's
verdict is not trusted alone: each test asks PostgreSQL with its own SQL about the transfers,
decisions, holds and naive rows of the accounts the drill used.
"""

from __future__ import annotations

import pytest

from fintech_core.drills.report import SideReport
from fintech_core.drills.scenarios.fraud_budget import AMOUNT
from fintech_core.drills.scenarios.fraud_mule import MULE_AMOUNT
from fintech_core.drills.scenarios.fraud_review import SUSPICIOUS, USUAL_N
from fintech_core.drills.scenarios.fraud_shadow import GOOD_DAY
from fintech_core.stack.session import LabSession
from tests.e2e.drill_support import play

pytestmark = pytest.mark.e2e


def naive_balance(s: LabSession, side: SideReport, label: str) -> float:
    return float(s.sql("SELECT balance FROM naive_accounts WHERE id = %s",  # type: ignore[arg-type]
                       (int(side.accounts[label]),))[0][0])


def balance(s: LabSession, side: SideReport, label: str) -> int:
    return int(s.sql("SELECT balance FROM accounts WHERE id = %s::uuid",  # type: ignore[call-overload]
                     (side.accounts[label],))[0][0])


def statuses(s: LabSession, side: SideReport, *labels: str) -> dict[str, int]:
    rows = s.sql("SELECT status, count(*) FROM transfers WHERE kind = 'TRANSFER'"
                 " AND source_id = ANY(%s::uuid[]) GROUP BY status",
                 ([side.accounts[label] for label in labels],))
    return {str(st): int(n) for st, n in rows}  # type: ignore[call-overload]


def test_slow_fraud_check(drill_session: LabSession) -> None:
    naive, phase = play(drill_session, "slow-fraud-check")
    s = drill_session
    # naive: the client gave up, and the money moved after it did
    assert naive.headline["answered"] is False and naive.headline["moved_after_giving_up"] == 1
    assert naive_balance(s, naive, "bob") == AMOUNT
    # phase: 201 in time, moved once, the decision recorded as a budget fallback
    assert phase.headline["answered"] is True
    assert statuses(s, phase, "alice") == {"COMPLETED": 1}
    assert s.sql("SELECT d.fallback FROM fraud_decisions d JOIN transfers t ON t.id = d.transfer_id"
                 " WHERE t.source_id = %s::uuid", (phase.accounts["alice"],)) == [
        ("budget-exceeded",)]


def test_mule_async_only(drill_session: LabSession) -> None:
    naive, phase = play(drill_session, "mule-async-only")
    s = drill_session
    assert naive_balance(s, naive, "cashout") == MULE_AMOUNT  # gone before the flag
    assert naive.headline["left_before_flag"] == MULE_AMOUNT
    assert s.sql("SELECT reason FROM naive_fraud_flags WHERE account_id = %s",
                 (int(naive.accounts["mule"]),)) == [("MULE_IN_OUT",)]  # flagged, too late
    assert balance(s, phase, "cashout") == 0 and balance(s, phase, "mule") == MULE_AMOUNT
    assert s.sql("SELECT status, failure_code FROM transfers WHERE source_id = %s::uuid",
                 (phase.accounts["mule"],)) == [("FAILED", "transfer-declined")]


def test_rule_straight_to_live(drill_session: LabSession) -> None:
    naive, phase = play(drill_session, "rule-straight-to-live")
    s = drill_session
    [(flagged,)] = s.sql("SELECT count(*) FROM naive_fraud_transfers WHERE verdict <> 'allow'"
                         " AND from_id = ANY(%s)",
                         ([int(naive.accounts["alice"]), int(naive.accounts["bob"])],))
    assert 0 < int(flagged) == naive.headline["held"]  # type: ignore[call-overload]
    assert statuses(s, phase, "alice", "bob") == {"COMPLETED": len(GOOD_DAY)}
    assert phase.headline["held"] == 0
    assert sum(phase.headline["shadow"].values()) == len(GOOD_DAY)


def test_review_queue(drill_session: LabSession) -> None:
    naive, phase = play(drill_session, "review-queue")
    s = drill_session
    # naive: both moved, bob spent the first onward, the reject could not reverse it
    assert naive_balance(s, naive, "shop") == SUSPICIOUS
    assert s.sql("SELECT state, outcome FROM naive_fraud_reviews r JOIN naive_fraud_transfers t"
                 " ON t.id = r.transfer_id WHERE t.from_id = %s ORDER BY t.id",
                 (int(naive.accounts["alice"]),))[0] == ("REJECTED", "reversal-failed")
    # phase: the rejected hold voided, the approved one posted once, nothing reserved after
    assert statuses(s, phase, "alice") == {"VOIDED": 1, "COMPLETED": 1 + USUAL_N}  # + her usual
    assert s.sql("SELECT r.state, t.status FROM fraud_reviews r JOIN transfers t ON t.id ="
                 " r.transfer_id WHERE t.source_id = %s::uuid ORDER BY r.opened_at",
                 (phase.accounts["alice"],)) == [("REJECTED", "VOIDED"), ("APPROVED", "COMPLETED")]
    assert balance(s, phase, "bob") == SUSPICIOUS and balance(s, phase, "shop") == 0
    assert s.sql("SELECT pending_out FROM ledger_accounts WHERE id = %s::uuid",
                 (phase.accounts["alice"],)) == [(0,)]
