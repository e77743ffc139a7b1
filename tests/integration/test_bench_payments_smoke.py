"""Phase 3's bench part, smoke profile: webhook ingestion, pay-in end to end and the transfer
cost of phase 3 against phase 2 are measured on real processes, and its checks are computed
from the database (a doctored inbox makes them fail). Speed is never asserted here."""

from __future__ import annotations

from dataclasses import replace

import psycopg
import pytest

from fintech_core.bench.profiles import PROFILES
from fintech_core.bench.runner import run_profile
from fintech_core.payments import bench_probes
from fintech_core.stack.lab import Lab
from phases import composition

pytestmark = pytest.mark.integration


def test_phase3_webhook_rate_payin_latency_and_transfer_cost(lab: Lab) -> None:
    profile = replace(PROFILES["smoke"], workloads=("uniform",), clients=(2,), seconds=1.0)
    run = run_profile(profile, composition(3), settings=lab.settings, api_workers=1,
                      progress=lambda _: None)
    pay = run.parts["payments"]
    hooks = pay["webhooks"]
    n = hooks["webhooks"]
    assert n >= 20 and hooks["captured_before"] == n
    assert hooks["statuses"] == {"200": n} and hooks["per_second"] > 0
    assert hooks["effects"] == {"settled": n, "ledger_credits": n, "inbox_applied": n}
    latency = pay["payin"]
    assert latency["settled"] == latency["payments"] >= 10
    assert latency["settled_by"] == {"webhook": latency["payments"]}
    ms = latency["request_to_settled_ms"]
    assert 0 < ms["p50"] <= ms["p99"] <= ms["max"]
    cost = pay["transfers"]
    assert len(cost["per_second"]["phase2"]) == len(cost["per_second"]["phase3"]) == 2
    assert cost["phase3_over_phase2"] == pytest.approx(
        cost["phase3_mean"] / cost["phase2_mean"], rel=0.01)
    assert pay["checks"] == {"webhooks_one_effect_each": True, "payins_settled": True,
                             "transfers_money_checks": True, "ok": True}
    assert run.ok()

    # The effects are the database's: one inbox row removed, and the count says so.
    db = lab.phase_database_url(3).replace(lab.settings.database_prefix, "fincore_bench")
    with psycopg.connect(db, autocommit=True) as conn:
        ids = [str(r[0]) for r in conn.execute(
            "SELECT reference FROM provider_inbox WHERE webhook_id LIKE 'msg_bench%'")]
        assert len(ids) == n
        conn.execute("DELETE FROM provider_inbox WHERE ctid = (SELECT ctid FROM provider_inbox"
                     " WHERE webhook_id LIKE 'msg_bench%' LIMIT 1)")
    assert bench_probes.settled_effects(db, ids)["inbox_applied"] == n - 1
