"""CI mode of issue #7: the bank workload under process kills and backend terminations, judged
by the checker; and the checker shown able to fail (naive baseline, money made in SQL, a
doctored log). `make chaos` is the long run with every fault."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import psycopg
import pytest

from fintech_core.chaos import oplog
from fintech_core.chaos.config import ChaosConfig
from fintech_core.chaos.env import ChaosEnv
from fintech_core.chaos.runner import judge, run

pytestmark = pytest.mark.chaos

CI_FAULTS = ("api-kill", "pg-terminate", "crash-point", "slow-transfer")
# Paced by progress (and seeded): the keys pace about ten faults, and two rounds cap them at
# eight, every kind exactly twice, all while writers are still busy (a fault due as the keys
# run out can only wait for traffic that never comes: a crash point "not reached" costs 10 s).
CI_TRANSFERS = 800


@pytest.fixture(scope="module")
def clean_run(chaos_env: ChaosEnv, tmp_path_factory: pytest.TempPathFactory) -> dict:
    config = ChaosConfig(transfers=CI_TRANSFERS, workers=12, accounts=16, faults=CI_FAULTS,
                         fault_every=80, fault_rounds=2)
    return run(chaos_env, config, tmp_path_factory.mktemp("chaos"))


def test_bank_workload_under_faults_has_zero_violations(clean_run: dict) -> None:
    f = clean_run["figures"]
    print(f)  # shown with -s or on failure: the figures of the CI run
    assert clean_run["violations_by_kind"] == {}, clean_run["examples"]
    assert clean_run["ok"] and f["operations"] == CI_TRANSFERS
    assert f["settled_201"] + f["settled_4xx"] == CI_TRANSFERS
    assert f["faults"] == dict.fromkeys(CI_FAULTS, 2), f["faults"]  # the cap, reached
    assert f["retries"] > 0 and f["snapshots"] > 0


def _run_record(log: Path) -> dict:
    return next(r for r in oplog.read(log) if r["kind"] == "run")


def test_checker_catches_money_created_by_a_direct_sql_update(
        chaos_env: ChaosEnv, clean_run: dict) -> None:
    log = Path(clean_run["log"])
    head = _run_record(log)
    with psycopg.connect(chaos_env.database_url, autocommit=True) as conn:
        conn.execute("UPDATE accounts SET balance = balance + 100 WHERE id = %s",
                     (head["accounts"][0],))
        try:
            res = judge(chaos_env, ChaosConfig(), log, head["accounts"], head["principal"])
        finally:
            conn.execute("UPDATE accounts SET balance = balance - 100 WHERE id = %s",
                         (head["accounts"][0],))
    assert not res["ok"]
    assert set(res["violations_by_kind"]) == {"sum-changed", "balance-drift"}


def test_checker_catches_a_doctored_operation_log(
        chaos_env: ChaosEnv, clean_run: dict, tmp_path: Path) -> None:
    log = Path(clean_run["log"])
    records = list(oplog.read(log))
    acked = next(r for r in records if r["kind"] == "attempt" and r.get("status") == 201)
    acked["transfer_id"] = "00000000-0000-7000-8000-000000000000"  # an id never written
    doctored = tmp_path / "doctored.jsonl"
    oplog.write_all(doctored, records)
    head = _run_record(log)
    res = judge(chaos_env, ChaosConfig(), doctored, head["accounts"], head["principal"])
    assert {"acknowledged-missing", "key-record-mismatch", "conflicting-answers"} & set(
        res["violations_by_kind"]), res["violations_by_kind"]
    assert not res["ok"]
    saved = orjson.loads(doctored.with_suffix(".json").read_bytes())
    assert saved["violations"] == res["violations"] > 0


def test_checker_flags_the_naive_baseline_under_concurrency(
        chaos_env: ChaosEnv, tmp_path: Path) -> None:
    """No transaction: a snapshot between the debit and the credit sees money missing, and racing
    read-modify-writes lose updates. The delay only widens a window the code always has."""
    drill = f"{chaos_env.api_url}/_drill/faults"
    httpx.post(drill, json={"point": "naive.after_debit", "action": "delay", "delay_ms": 20,
                            "times": -1}).raise_for_status()
    try:
        config = ChaosConfig(target="naive", transfers=200, workers=12, accounts=3,
                             initial_balance=1000, max_amount=50, faults=(), timeouts=((30.0, 1),),
                             reader_pause_s=0.005)
        res = run(chaos_env, config, tmp_path)
    finally:
        httpx.delete(drill).raise_for_status()
    assert not res["ok"]
    assert "sum-changed" in res["violations_by_kind"]
