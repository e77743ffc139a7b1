"""The benchmark harness, smoke profile: it runs end to end and its correctness checks bite.

Speed is never asserted here (that is `make bench`); what is asserted is that the harness
measures real work, that the checks it prints are computed from the database, and that a check
fails when the ledger is wrong.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from fintech_core.bench import checks, report
from fintech_core.bench.profiles import PROFILES
from fintech_core.bench.runner import run_profile
from fintech_core.stack.lab import Lab

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("phase", [0, 1])
def test_smoke_profile_runs_and_every_check_passes(lab: Lab, tmp_path: Path, phase: int) -> None:
    profile = replace(PROFILES["smoke"], clients=(2,), seconds=1.0)
    run = run_profile(profile, phase, settings=lab.settings, api_workers=1, progress=lambda _: None)
    assert {r["workload"] for r in run.rows} == {"uniform", "hot"}
    for row in run.rows:
        assert row["api"]["statuses"].get("201", 0) > 0, row
        assert row["pgbench"]["tps"] > 0
        assert row["ratio"] == pytest.approx(row["api"]["per_second"] / row["pgbench"]["tps"], rel=0.01)
        expected = {"money_conserved": True, "no_negative_balance": True,
                    "one_transfer_per_201": True, "ok": True}
        if phase >= 1:  # the ledger's own verify joins the checks
            expected["ledger_zero_drift"] = True
        assert row["checks"] == expected
    assert run.client_ceiling_rps > 0
    where = report.write(run, tmp_path)
    saved = json.loads((where / "bench.json").read_text())
    assert saved["rows"] == run.rows
    assert (tmp_path / "latest" / "throughput_latency.png").stat().st_size > 10_000


def test_checks_fail_when_the_database_disagrees(lab: Lab) -> None:
    """Money created behind the API's back, a lost 201, a negative balance: each check bites."""
    db = lab.phase_database_url(0).replace(lab.settings.database_prefix, "fincore_bench")
    with psycopg.connect(db, autocommit=True) as conn:
        ids = [str(r[0]) for r in conn.execute("SELECT id FROM accounts LIMIT 2").fetchall()]
        before = checks.ledger_state(db, ids)
        assert checks.verify(before, before, 0, None)["ok"] is True
        conn.execute("UPDATE accounts SET balance = balance + 1 WHERE id = %s", (ids[0],))
        after = checks.ledger_state(db, ids)
    created_money = checks.verify(before, after, 0, None)
    assert created_money["money_conserved"] is False and created_money["ok"] is False
    lost_201 = checks.verify(before, before, 1, None)
    assert lost_201["one_transfer_per_201"] is False and lost_201["ok"] is False
    negative = checks.verify(before, replace(before, minimum=-1), 0, None)
    assert negative["no_negative_balance"] is False
    drift = checks.verify(before, before, 0, {"drift": [{"account": ids[0]}]})
    assert drift["ledger_zero_drift"] is False and drift["ok"] is False


def test_cpu_per_request_is_measured_for_both_processes(lab: Lab) -> None:
    from fintech_core.bench.cpu import measure

    if lab.postgres is None:
        pytest.skip("PostgreSQL CPU is read from the embedded server's processes")
    out = measure(0, clients=2, seconds=1.0, settings=lab.settings)
    assert out["requests"] > 10
    assert out["api_cpu_ms_per_request"] > 0 and out["postgres_cpu_ms_per_request"] > 0


def test_a_benchmark_stops_the_servers_it_started(tmp_path: Path) -> None:
    """Run against a lab with nothing running: afterwards nothing of it may still listen."""
    from fintech_core.settings import Settings
    from fintech_core.stack.processes import free_port, port_open

    settings = Settings(lab_dir=tmp_path / "lab", pg_port=free_port(), redis_port=free_port(),
                        broker_port=free_port())
    profile = replace(PROFILES["smoke"], workloads=("uniform",), clients=(1,), seconds=0.5,
                      accounts=3)
    run = run_profile(profile, 0, settings=settings, api_workers=1, progress=lambda _: None)
    assert run.ok()
    ports = (settings.pg_port, settings.redis_port, settings.broker_port)
    assert not any(port_open("127.0.0.1", p) for p in ports)
