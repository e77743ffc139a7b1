"""The phase-4 attacker drills on the real stack, naive baseline and phase 4 side by side.

The naive baseline must break the way each drill teaches and phase 4 must hold. The drill's
verdict is not trusted alone: each test asks PostgreSQL with its own SQL about the accounts,
credit limits, audit events and refresh tokens the drill used.
"""

from __future__ import annotations

import pytest

from fintech_core.drills.report import SideReport
from fintech_core.stack.session import LabSession
from tests.e2e.drill_support import play

pytestmark = pytest.mark.e2e


def naive_balance(s: LabSession, side: SideReport, label: str) -> float:
    return float(s.sql("SELECT balance FROM naive_accounts WHERE id = %s",  # type: ignore[arg-type]
                       (int(side.accounts[label]),))[0][0])


def balance(s: LabSession, side: SideReport, label: str) -> int:
    return int(s.sql("SELECT balance FROM accounts WHERE id = %s::uuid",  # type: ignore[call-overload]
                     (side.accounts[label],))[0][0])


def transfers_out(s: LabSession, side: SideReport, label: str) -> int:
    return int(s.sql("SELECT count(*) FROM transfers WHERE source_id = %s::uuid"  # type: ignore[call-overload]
                     " AND kind = 'TRANSFER'", (side.accounts[label],))[0][0])


def test_bola_naive_debits_alice_phase_answers_404(drill_session: LabSession) -> None:
    naive, phase = play(drill_session, "bola")
    s = drill_session
    assert naive_balance(s, naive, "alice") == 900 and naive_balance(s, naive, "bob") == 100
    assert naive.headline["read"] == 200  # bob read alice's account
    assert balance(s, phase, "alice") == 1000 and balance(s, phase, "bob") == 0
    assert transfers_out(s, phase, "alice") == 0  # not even a failed transfer was recorded
    assert phase.headline["read"] == 404 and phase.headline["stolen"] == 0


def test_self_assigned_credit_limit_naive_mints_phase_forbids(drill_session: LabSession) -> None:
    naive, phase = play(drill_session, "self-assigned-credit-limit")
    s = drill_session
    assert s.sql("SELECT credit_limit FROM naive_account_terms WHERE account_id = %s",
                 (int(naive.accounts["credit"]),)) == [(2.0**53 - 1,)]
    assert naive_balance(s, naive, "mule") == 10**12  # money backed by nothing
    assert "credit" not in phase.accounts
    [(owner,)] = s.sql("SELECT owner FROM accounts WHERE id = %s::uuid", (phase.accounts["mule"],))
    run_id = str(owner).rsplit("-", 1)[1]
    assert s.sql("SELECT count(*) FROM accounts WHERE owner = %s", (f"credit-{run_id}",)) == [(0,)]
    assert balance(s, phase, "mule") == 0
    granted = phase.accounts["granted"]
    assert s.sql("SELECT credit_limit FROM ledger_accounts WHERE account_id = %s::uuid",
                 (granted,)) == [(500,)]
    assert s.sql("SELECT actor, action, details->>'credit_limit' FROM audit_log"
                 " WHERE object_id = %s::uuid", (granted,)) == [
        ("lab-driver", "account.credit-limit-set", "500")]
    assert any("403" in saw for saw in phase.client_saw)


def test_forged_tokens_naive_accepts_four_phase_refuses_each(drill_session: LabSession) -> None:
    naive, phase = play(drill_session, "forged-token")
    s = drill_session
    assert naive.headline["accepted"] == 4 and naive_balance(s, naive, "alice") == 600
    assert phase.headline["accepted"] == 0 and balance(s, phase, "alice") == 1000
    assert transfers_out(s, phase, "alice") == 0
    assert sorted(phase.headline["reasons"].values()) == [
        "algorithm-not-allowed", "algorithm-not-allowed", "expired", "wrong-audience"]
    challenges = [e.text for e in phase.events if "WWW-Authenticate" in e.text]
    assert len(challenges) == 4 and all('error="invalid_token"' in c for c in challenges)


def test_refresh_replay_naive_keeps_minting_phase_revokes_the_family(
        drill_session: LabSession) -> None:
    naive, phase = play(drill_session, "refresh-token-replay")
    s = drill_session
    assert naive_balance(s, naive, "alice") == 900  # the replay bought a token that spent
    assert naive.headline["exchanges_of_stolen"] == 2 and naive.headline["revoked"] is None
    assert balance(s, phase, "alice") == 1000
    assert phase.headline["revoked"] == "reuse"
    # The newest family on record for alice is revoked for reuse and holds only the login's
    # token and its one successor: the replay minted nothing.
    [(family, reason, tokens)] = s.sql(
        "SELECT f.id, f.revoked_reason, count(t.*) FROM refresh_families f JOIN refresh_tokens t"
        " ON t.family_id = f.id WHERE f.subject = 'alice' GROUP BY f.id"
        " ORDER BY f.created_at DESC LIMIT 1")
    assert (reason, tokens) == ("reuse", 2), family
