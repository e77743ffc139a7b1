"""Every drill on the real stack, naive baseline and latest phase side by side.

For each drill the naive baseline must really break in the way the drill teaches, and the phase
must really hold. The drill's own verdict is not trusted alone: each test also asks PostgreSQL
directly, with its own SQL, about the accounts the drill used.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fintech_core.drills.report import DrillReport, SideReport
from fintech_core.drills.runner import run
from fintech_core.drills.scenarios.mail import MAIL_MS
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port
from fintech_core.stack.session import LabSession
from phases import composition, latest
from tests.conftest import phase_database

pytestmark = pytest.mark.e2e


@pytest.fixture
def own_postgres(lab: Lab) -> Iterator[LabSession]:
    """A session with a PostgreSQL of its own (Redis and the broker are the session's): the
    db-restart drill restarts it, and the pools of other tests' API processes would die with a
    shared one."""
    if lab.postgres is None:
        pytest.skip("the database is external: the lab restarts only a PostgreSQL it owns")
    lab_dir = Path(tempfile.mkdtemp(prefix="fincore-drill-pg-"))
    settings = lab.settings.model_copy(update={
        "lab_dir": lab_dir, "pg_port": free_port(),
        "redis_url": lab.redis_url(), "kafka_bootstrap": lab.kafka_bootstrap()})
    session = LabSession(composition(latest()), settings=settings)
    yield session
    session.close()  # its API and its PostgreSQL
    shutil.rmtree(lab_dir, ignore_errors=True)


def play(session: LabSession, name: str) -> tuple[SideReport, SideReport, DrillReport]:
    report = run(name, session=session)
    naive, phase = report.side("naive"), report.side("phase")
    if phase.skipped and session.lab.postgres is None:
        pytest.skip(phase.skipped)  # an external database: the lab restarts only its own
    assert not (naive.skipped or phase.skipped), (naive.skipped, phase.skipped)
    assert report.ok, phase.verdict
    assert (naive.outcome, phase.outcome) == ("broken", "held"), (naive.verdict, phase.verdict)
    return naive, phase, report


def naive_balance(s: LabSession, side: SideReport, label: str) -> float:
    return float(s.sql("SELECT balance FROM naive_accounts WHERE id = %s",
                       (int(side.accounts[label]),))[0][0])  # type: ignore[arg-type]


def balance(s: LabSession, side: SideReport, label: str) -> int:
    return int(s.sql("SELECT balance FROM accounts WHERE id = %s",  # type: ignore[call-overload]
                     (side.accounts[label],))[0][0])


def completed_from(s: LabSession, side: SideReport, label: str) -> int:
    return int(s.sql("SELECT count(*) FROM transfers WHERE source_id = %s"  # type: ignore[call-overload]
                     " AND status = 'COMPLETED'", (side.accounts[label],))[0][0])


def test_response_lost_naive_charges_twice_phase_replays(drill_session: LabSession) -> None:
    naive, phase, _ = play(drill_session, "response-lost")
    assert naive_balance(drill_session, naive, "alice") == 800 and naive.headline["debits"] == 2
    assert balance(drill_session, phase, "alice") == 900
    assert completed_from(drill_session, phase, "alice") == 1
    assert phase.client_saw[0].startswith("timed out")
    assert "Idempotent-Replayed" in phase.client_saw[-1]


def test_new_key_on_retry_moves_twice_but_the_phase_records_both(
        drill_session: LabSession) -> None:
    naive, phase, report = play(drill_session, "new-key-on-retry")
    assert naive.headline["debits"] == phase.headline["debits"] == 2
    assert phase.ledger["recorded_from"] == (
        "posted ledger entries" if report.phase >= 1 else "recorded transfers")
    assert completed_from(drill_session, phase, "alice") == 2  # both visible, both refundable
    assert phase.client_saw[0].startswith("answer cut off")


def test_concurrent_retries_get_409_then_a_replay(drill_session: LabSession) -> None:
    naive, phase, _ = play(drill_session, "concurrent-retries")
    assert naive_balance(drill_session, naive, "alice") <= 800  # 2 or 3 debits: lost updates
    assert completed_from(drill_session, phase, "alice") == 1
    assert sum("409 idempotency-key-in-flight" in s for s in phase.client_saw) == 2
    assert "Idempotent-Replayed" in phase.client_saw[-1]


def test_key_reuse_with_another_amount_is_refused(drill_session: LabSession) -> None:
    naive, phase, _ = play(drill_session, "key-reuse")
    assert naive_balance(drill_session, naive, "alice") == 799
    assert balance(drill_session, phase, "alice") == 900
    assert phase.client_saw[-1].startswith("422 idempotency-key-reused")


def test_kill_mid_transfer_destroys_naive_money_and_not_phase_money(
        drill_session: LabSession) -> None:
    naive, phase, _ = play(drill_session, "killed-mid-transfer")
    assert naive_balance(drill_session, naive, "alice") == 800
    assert naive_balance(drill_session, naive, "bob") == 100  # 100 destroyed
    assert (balance(drill_session, phase, "alice"), balance(drill_session, phase, "bob")) == \
        (900, 100)
    assert drill_session.http.get("/health").status_code == 200  # restarted on the same port


def test_race_for_the_last_funds_creates_money_only_in_the_naive_world(
        drill_session: LabSession) -> None:
    naive, phase, _ = play(drill_session, "last-funds")
    paid = naive_balance(drill_session, naive, "bob") + naive_balance(drill_session, naive, "carol")
    assert naive_balance(drill_session, naive, "alice") == 0 and paid == 200
    assert balance(drill_session, phase, "bob") + balance(drill_session, phase, "carol") == 100
    assert sorted(s.split(" in ")[0] for s in phase.client_saw) == ["201", "422 insufficient-funds"]


def test_slow_failing_mail_fails_naive_after_moving_money(drill_session: LabSession) -> None:
    naive, phase, _ = play(drill_session, "slow-mail")
    assert naive_balance(drill_session, naive, "alice") == 800
    assert all(s.startswith("500") for s in naive.client_saw)
    assert naive.headline["slowest_ms"] >= MAIL_MS
    assert phase.client_saw[0].startswith("201")  # the phase never waits for the mail server
    assert phase.headline["slowest_ms"] < naive.headline["slowest_ms"]
    assert completed_from(drill_session, phase, "alice") == 1


def test_database_restart_during_a_burst(own_postgres: LabSession) -> None:
    drill_session = own_postgres
    naive, phase, _ = play(drill_session, "db-restart")
    # Each worker has its own accounts, so only the restart can lose money: a half-done naive
    # transfer keeps its debit and loses its credit.
    assert sum(naive.ledger["balances"].values()) < 4000
    assert naive.headline["debits"] > 12
    for i in range(4):
        assert completed_from(drill_session, phase, f"a{i}") == 3
        assert balance(drill_session, phase, f"a{i}") == 970
    faults = [e.text for e in phase.events if e.actor == "database" and e.kind == "fault"]
    assert any("fast shutdown" in f for f in faults)
    assert drill_session.http.get("/ready").status_code == 200  # the session API is usable


def test_the_same_drills_hold_on_phase_0(lab: Lab) -> None:
    """Drills take the phase as a parameter: phase 0 (balance column + transfers) holds too."""
    phase_database(lab, 0)
    with LabSession(composition(0), settings=lab.settings) as session:
        for name in ("response-lost", "new-key-on-retry"):
            _, phase, report = play(session, name)
            assert (report.phase, phase.label) == (0, "phase 0")
            assert phase.ledger["recorded_from"] == "recorded transfers"


def test_one_side_only_and_json(drill_session: LabSession) -> None:
    import json

    report = run("key-reuse", against="phase", session=drill_session)
    assert [s.side for s in report.sides] == ["phase"]
    data = json.loads(report.to_json())
    assert data["ok"] is True and data["sides"][0]["outcome"] == "held"
    assert data["sides"][0]["events"][0]["actor"] == "drill"
