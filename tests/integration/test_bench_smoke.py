"""The benchmark harness, smoke profile: it runs end to end and its correctness checks bite.

Speed is never asserted here (that is `make bench`); what is asserted is that the harness
measures real work, that the checks it prints are computed from the database, and that a check
fails when the ledger is wrong.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from fintech_core.bench import checks, report
from fintech_core.bench.profiles import PROFILES
from fintech_core.bench.runner import run_profile
from fintech_core.db.admin import drop_database
from fintech_core.db.urls import with_database
from fintech_core.events import bench_facts as event_facts
from fintech_core.events.relay import make_producer
from fintech_core.events.topics import ensure_topics, topics_for
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port, port_open
from phases import composition

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("phase", [0, 1])
def test_smoke_profile_runs_and_every_check_passes(lab: Lab, tmp_path: Path, phase: int) -> None:
    profile = replace(PROFILES["smoke"], clients=(2,), seconds=1.0)
    run = run_profile(profile, composition(phase), settings=lab.settings, api_workers=1,
                      progress=lambda _: None)
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


def test_phase2_events_relay_rate_and_lag_at_half_load(lab: Lab, tmp_path: Path) -> None:
    """Phase 2: the relay and consumers run with the bench; the events part measures the relay
    on a backlog and the lag of an open-loop window at half of the uniform maximum, and its
    checks are computed from the database (doctoring one row makes them fail)."""
    # A message an earlier run left in the bench's topic (stopped before its consumers caught
    # up) must not reach this run's consumers (dead letter, or drift): a run starts on empty
    # topics, as on an empty database.
    stale = topics_for(lab.settings.model_copy(update={"database_prefix": "fincore_bench",
                                                       "phase": 2}))
    ensure_topics(lab.kafka_bootstrap(), stale, 3)
    producer = make_producer(lab.kafka_bootstrap())
    producer.send(stale.events, b"left over by an earlier run").get(timeout=15)
    producer.close()

    profile = replace(PROFILES["smoke"], workloads=("uniform",), clients=(2,), seconds=1.0)
    run = run_profile(profile, composition(2), settings=lab.settings, api_workers=1, progress=lambda _: None)
    assert all(r["checks"]["ok"] for r in run.rows), run.rows
    ev = run.events
    assert ev is not None, "phase 2 must add the events section"
    uniform = run.rows[0]["api"]
    assert ev["max_load"]["per_second"] == pytest.approx(
        uniform["statuses"]["201"] / uniform["seconds"], rel=0.01)
    assert ev["offered_per_second"] == pytest.approx(ev["max_load"]["per_second"] / 2, abs=0.1)
    assert ev["api"]["mode"] == "open-loop" and ev["api"]["unsent"] == 0
    created = ev["api"]["statuses"]["201"]
    assert created == ev["events"] > 0
    # commit -> the relay's mark. Not a lower bound of the consumers' lag: the mark comes after
    # the broker's acks, and a consumer may process the event in between.
    published = ev["publish_lag_ms"]
    assert published["count"] == created and published["p50"] > 0
    for consumer in ("activity", "audit"):
        lag = ev["lag_ms"][consumer]
        assert lag["count"] == created, (consumer, lag)
        assert 0 < lag["p50"] <= lag["p99"] <= lag["max"], (consumer, lag)
        assert ev["consumers"][consumer] == {"missing": 0, "duplicates": 0, "foreign": 0}
    relay = ev["relay"]
    assert relay["published"] and relay["batches"] > 1, relay
    assert relay["events"] == relay["writer"]["statuses"]["201"]
    assert relay["events_per_second"] > 0 and relay["first_publish_after_s"] > 0
    assert ev["checks"] == {
        "money_conserved": True, "no_negative_balance": True, "one_transfer_per_201": True,
        "ledger_zero_drift": True, "events_caught_up": True, "one_event_per_201": True,
        "each_event_processed_once": True, "no_dead_letters": True, "read_models_verify": True,
        "backlog_published": True, "ok": True}
    assert run.ok()
    where = report.write(run, tmp_path)
    assert json.loads((where / "bench.json").read_text())["events"] == ev
    assert (where / "events_lag.png").stat().st_size > 10_000
    assert report.events_table(run) is not None

    db = lab.phase_database_url(2).replace(lab.settings.database_prefix, "fincore_bench")
    window = event_facts.Window(**ev["window"])
    with psycopg.connect(db, autocommit=True) as conn:
        # The figures are the database's: recomputed here straight from the two tables.
        span = (window.after_seq, window.last_seq)
        published_ms = [r[0] for r in conn.execute(
            "SELECT extract(epoch FROM published_at - created_at)::float8 * 1000 FROM outbox"
            " WHERE seq > %s AND seq <= %s", span)]
        assert event_facts.lag_stats(published_ms) == published
        for consumer in ("activity", "audit"):
            consumed_ms = [r[0] for r in conn.execute(
                "SELECT extract(epoch FROM p.processed_at - o.created_at)::float8 * 1000 FROM"
                " outbox o JOIN processed_events p USING (event_id) WHERE p.consumer = %s AND"
                " o.seq > %s AND o.seq <= %s", (consumer, *span))]
            assert event_facts.lag_stats(consumed_ms) == ev["lag_ms"][consumer]
        # The same facts with one consumer's record of one window event deleted: the check bites.
        conn.execute("DELETE FROM processed_events WHERE consumer = 'audit' AND event_id ="
                     " (SELECT event_id FROM outbox WHERE seq > %s ORDER BY seq LIMIT 1)",
                     (window.after_seq,))
        doctored = event_facts.window_facts(conn, window, ("activity", "audit"))
    checks_now, detail = event_facts.verdict(doctored, created, True, True)
    assert checks_now["each_event_processed_once"] is False
    assert detail["audit"]["missing"] == 1 and detail["activity"]["missing"] == 0


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
    out = measure(composition(0), clients=2, seconds=1.0, settings=lab.settings)
    assert out["requests"] > 10
    assert out["api_cpu_ms_per_request"] > 0 and out["postgres_cpu_ms_per_request"] > 0


def test_a_benchmark_stops_the_servers_it_started(server_dir: Path) -> None:
    """Run against a lab with nothing running: afterwards nothing of it may still listen."""
    settings = Settings(lab_dir=server_dir / "lab", pg_port=free_port(), redis_port=free_port(),
                        broker_port=free_port())
    profile = replace(PROFILES["smoke"], workloads=("uniform",), clients=(1,), seconds=0.5,
                      accounts=3)
    run = run_profile(profile, composition(0), settings=settings, api_workers=1, progress=lambda _: None)
    assert run.ok()
    ports = (settings.pg_port, settings.redis_port, settings.broker_port)
    assert not any(port_open("127.0.0.1", p) for p in ports)


@contextmanager
def _storage_lab(lab: Lab, storage: str) -> Iterator[Settings]:
    """A lab directory of its own (its broker, and for s3 its object store, on free ports) on
    the session's PostgreSQL and Redis, with a freshly dropped database of its own."""
    own_dir = Path(tempfile.mkdtemp(prefix=f"fincore-storage-{storage}-"))
    own_dir.chmod(0o755)
    prefix = f"fincore_test_storage_{storage}"
    drop_database(lab.database_url(), f"{prefix}_p2")
    try:
        yield lab.settings.model_copy(update={
            "lab_dir": own_dir, "database_url": lab.database_url(), "redis_url": lab.redis_url(),
            "kafka_bootstrap": None, "broker_port": free_port(), "object_store_port": free_port(),
            "database_prefix": prefix, "phase": 2})
    finally:
        drop_database(lab.database_url(), f"{prefix}_p2")
        shutil.rmtree(own_dir, ignore_errors=True)


def test_broker_storage_measurement_runs_and_tells_the_storages_apart(lab: Lab) -> None:
    """`fcl events broker-storage`, small: each storage with a broker of its own (the CLI also
    embeds PostgreSQL and Redis per storage; here they are the session's, on databases of each
    run's own). The restart facts are the point: memory loses the topic and the relay
    re-queues the unconsumed backlog; s3 keeps topic, id and records and re-queues nothing;
    both apply each event once. The two runs share no process, port, directory or database,
    so they run side by side: most of each is waiting on process starts and the restart."""
    from fintech_core.events.storage_bench import measure
    from fintech_core.events.storage_facts import decide, rows

    def one(storage: str) -> dict:
        with _storage_lab(lab, storage) as settings:
            return measure(composition(2), storage, 12, 20.0, 300, lambda _: None, settings)

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(("memory", "s3"), pool.map(one, ("memory", "s3")), strict=True))
    for run in runs.values():
        r = run["restart"]
        assert r["drained"] and r["applied_once"], run
        assert run["lag_ms"]["count"] > 0 and run["produce"]["per_second"] > 0
        assert run["rss_mb"] > 0 and run["start_s"] > 0
    memory, s3 = runs["memory"]["restart"], runs["s3"]["restart"]
    assert memory["survived"]["records"] is False and memory["offsets_reset"] is True
    assert memory["requeued"] >= memory["backlog"] > 0
    assert s3["survived"] == {"topic": True, "topic_id": True, "records": True}
    assert s3["requeued"] == 0 and s3["offsets_reset"] is False and s3["group_offset"] == "kept"
    assert decide(runs["memory"], runs["s3"])[0] in ("default", "option")
    assert len(rows(runs["memory"], runs["s3"])) == 16


def test_phase5_fraud_part_costs_and_budget(lab: Lab) -> None:
    """Phase 5's part, on its own (the runner drives it like the others; its APIs are its own):
    phase 4 against phase 5 per transfer, then the engine slowed past its budget. Its checks
    are the database's: every slowed transfer was decided by the fallback."""
    from fintech_core.bench.runner import loadgen
    from fintech_core.fraud.bench import SLOW_FACTOR, FraudBench
    from fintech_core.fraud.bench_api import fallbacks

    assert FraudBench in composition(5).bench_parts
    part = FraudBench(lab, composition(5), "unused", tag="benchfraud", drain_timeout=60.0)
    out = part.measure("unused", [], [], 1.0, 0, loadgen, lambda _: None)
    assert out["checks"] == {"money_checks": True, "slowed_always_fell_back": True,
                             "ok": True}, out["checks"]
    cost = out["transfers"]
    for label in ("phase4", "phase5"):
        assert len(cost[label]["runs"]) == 2
        for run in cost[label]["runs"]:
            assert set(run["statuses"]) == {"201"}, run["statuses"]  # the driver: never reviewed
        assert cost[label]["cpu_ms_per_transfer"]["api"] > 0
        assert cost[label]["cpu_ms_per_transfer"]["postgres"] > 0
    assert cost["cpu_ms_phase5_minus_phase4"] == pytest.approx(
        cost["phase5"]["cpu_ms_per_transfer"]["total"]
        - cost["phase4"]["cpu_ms_per_transfer"]["total"], abs=0.002)
    budget = out["budget"]
    assert budget["engine_delay_ms"] == SLOW_FACTOR * budget["budget_ms"] > 0
    slowed, normal = budget["slowed"], budget["normal"]
    created = 0
    for s_run, n_run in zip(slowed["runs"], normal["runs"], strict=True):
        assert s_run["mode"] == n_run["mode"] == "open-loop"
        assert s_run["unsent"] == n_run["unsent"] == 0
        assert s_run["fallbacks"] == {"budget-exceeded": s_run["statuses"]["201"]}
        assert set(n_run["fallbacks"]) <= {"budget-exceeded"}  # only if the machine stalled
        created += s_run["statuses"]["201"]
    assert budget["normal_fallbacks"] == sum(sum(r["fallbacks"].values()) for r in normal["runs"])
    assert budget["p99_over_budget_bound"] == pytest.approx(
        slowed["p99_ms"] / (normal["p99_ms"] + budget["budget_ms"]), abs=0.001)
    # Recounted straight from the slowed API's database: seeding and the run, all by fallback.
    slow_db = with_database(lab.database_url(), "fincore_bench_fraud_slow_p5")
    assert fallbacks(slow_db)["budget-exceeded"] >= created
