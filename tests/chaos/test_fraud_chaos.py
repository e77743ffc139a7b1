"""CI mode of phase 5's chaos: the bank workload through the fraud engine while the engine is
slow or failing (fallback "review", so the lab's driver, which trips no v1 rule, gets 201
PENDING holds), the API is killed and its backends terminated, and a reviewer (support, over
the API) approves some reviews, rejects some and leaves the rest to expire. Judged by the core
checker (money conserved, no negative balance, a hold's 201 accepted) and phase 5's hooks; then
each hook shown able to fail on a doctored database. `./fcl chaos --phase 5 --faults ...` runs
the long version."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from fintech_core.chaos.config import ChaosConfig
from fintech_core.chaos.env import ChaosEnv
from fintech_core.chaos.runner import run
from fintech_core.db.admin import drop_database
from fintech_core.fraud import chaos as hooks
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port
from fintech_core.stack.session import LabSession
from phases import composition
from tests.chaos.conftest import CI_BROKER_OUTAGE_S

pytestmark = pytest.mark.chaos

PHASE = 5
PREFIX = "fincore_test_chaos_fraud"
FAULTS = ("fraud-engine-slow", "fraud-engine-failing", "api-kill", "pg-terminate")


@pytest.fixture(scope="module")
def fraud_env(lab: Lab) -> Iterator[ChaosEnv]:
    """Phase 5 on a lab directory of its own (its seeded identities) and its own broker: its
    API, relay, consumers and the fraud-async consumer."""
    own_dir = Path(tempfile.mkdtemp(prefix="fincore-chaos-fraud-"))
    own_dir.chmod(0o755)
    settings = lab.settings.model_copy(update={
        "lab_dir": own_dir, "database_url": lab.database_url(), "redis_url": lab.redis_url(),
        "kafka_bootstrap": None, "broker_port": free_port(), "database_prefix": PREFIX,
        "phase": PHASE})
    drop_database(lab.database_url(), f"{PREFIX}_p{PHASE}")
    composed = composition(PHASE)
    try:
        with LabSession(composed, settings=settings, hold_sweep_interval_seconds=0.5) as s:
            yield ChaosEnv(s.api, s.database_url, None, PHASE, composed.chaos_hooks,
                           composed.chaos_faults, s,
                           {"broker_outage_s": CI_BROKER_OUTAGE_S, "drain_bound_s": 90.0,
                            "fraud_review_ttl_s": 3})
    finally:
        shutil.rmtree(own_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def fraud_run(fraud_env: ChaosEnv, tmp_path_factory: pytest.TempPathFactory) -> dict:
    # Two rounds: every kind exactly twice, the eighth due by key ~300 of 360.
    config = ChaosConfig(phase=PHASE, transfers=360, workers=8, accounts=12, faults=FAULTS,
                         fault_every=35, fault_rounds=2)
    return run(fraud_env, config, tmp_path_factory.mktemp("chaos-fraud"))


def test_a_slow_and_failing_engine_under_fire_has_zero_violations(fraud_run: dict) -> None:
    f = fraud_run["figures"]
    print(f)  # shown with -s or on failure: the figures of the CI run
    assert fraud_run["violations_by_kind"] == {}, (fraud_run["examples"], fraud_run["hooks"])
    assert f["faults"] == dict.fromkeys(FAULTS, 2), f["faults"]
    statuses = {h["name"]: h["status"] for h in fraud_run["hooks"]}
    assert statuses["fraud-decisions"] == statuses["fraud-reviews"] == "ok", fraud_run["hooks"]
    decided, reviews = f["fraud-decisions"], f["fraud-reviews"]
    # The failing engine fell back to review: holds appeared for a driver no v1 rule reviews.
    assert decided["fallbacks"].get("engine-error", 0) > 0, decided
    assert decided["answered_201_pending"] > 0, decided
    # The reviewer met every fate, and the holds ended accordingly: none left PENDING.
    assert reviews["approved"] > 0 and reviews["rejected"] > 0, reviews
    assert reviews["completed"] >= reviews["approved"] and reviews["voided"] >= reviews["rejected"]
    assert reviews["expired"] > 0 and reviews["pending"] == 0, reviews


def _one(env: ChaosEnv, query: str) -> tuple:  # type: ignore[type-arg]
    with psycopg.connect(env.database_url, autocommit=True) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None, query
    return row


def test_the_hooks_catch_a_hold_without_a_review_decision(fraud_env: ChaosEnv,
                                                          fraud_run: dict) -> None:
    tid, verdict = _one(fraud_env, "SELECT d.transfer_id, d.verdict FROM fraud_decisions d"
                                   " JOIN holds h USING (transfer_id) LIMIT 1")
    with psycopg.connect(fraud_env.database_url, autocommit=True) as conn:
        conn.execute("UPDATE fraud_decisions SET verdict = 'allow' WHERE transfer_id = %s",
                     (tid,))
        try:
            result = hooks.fraud_decisions(fraud_env)
        finally:
            conn.execute("UPDATE fraud_decisions SET verdict = %s WHERE transfer_id = %s",
                         (verdict, tid))
    assert result.status == "violation" and f"transfer {tid} is a hold" in result.detail
    assert hooks.fraud_decisions(fraud_env).status == "ok"


def test_the_hooks_catch_a_review_hold_left_pending(fraud_env: ChaosEnv, fraud_run: dict) -> None:
    tid, status = _one(fraud_env, "SELECT t.id, t.status FROM transfers t JOIN fraud_reviews r"
                                  " ON r.transfer_id = t.id WHERE t.status = 'EXPIRED' LIMIT 1")
    with psycopg.connect(fraud_env.database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE transfers DISABLE TRIGGER USER")  # only PENDING -> final
        try:
            conn.execute("UPDATE transfers SET status = 'PENDING' WHERE id = %s", (tid,))
            result = hooks.fraud_reviews(fraud_env)
        finally:
            conn.execute("UPDATE transfers SET status = %s WHERE id = %s", (status, tid))
            conn.execute("ALTER TABLE transfers ENABLE TRIGGER USER")
    assert result.status == "violation" and f"hold {tid} still PENDING" in result.detail
    assert hooks.fraud_reviews(fraud_env).status == "ok"

