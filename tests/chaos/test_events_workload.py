"""CI mode of issue #20, item 2: the bank workload on phase 2 while the async path is hit (relay
killed between publish and mark, broker stopped and started empty, consumers killed mid-batch,
poison on the topic), judged by phase 2's hooks from PostgreSQL; then each hook shown able to
fail on a doctored database. `make chaos` runs the long version (60 s broker outages)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from fintech_core.chaos.config import ChaosConfig
from fintech_core.chaos.env import ChaosEnv
from fintech_core.chaos.hooks import HookResult
from fintech_core.chaos.runner import run
from fintech_core.events import chaos as hooks
from fintech_core.events.chaos_support import last_seq as outbox_last_seq
from fintech_core.events.chaos_support import since, wait_drained

pytestmark = pytest.mark.chaos

EVENT_FAULTS = ("relay-kill", "broker-stop", "consumer-kill", "poison")


@pytest.fixture(scope="module")
def events_run(events_env: ChaosEnv, tmp_path_factory: pytest.TempPathFactory) -> dict:
    # Paced by progress (and seeded): the keys pace about ten faults, and two rounds cap them at
    # eight, every kind exactly twice (a third broker outage cost 15 s and proved nothing new).
    # The first broker outage tends to outlast the writers; the relay and consumer faults that
    # come after replay the latest events so there is still a batch to crash on (see
    # events/chaos_faults.py).
    config = ChaosConfig(phase=2, transfers=900, workers=8, accounts=12, faults=EVENT_FAULTS,
                         fault_every=90, fault_rounds=2)
    return run(events_env, config, tmp_path_factory.mktemp("chaos-events"))


def test_events_under_async_faults_have_zero_violations(events_run: dict) -> None:
    f = events_run["figures"]
    print(f)  # shown with -s or on failure: the figures of the CI run
    assert events_run["violations_by_kind"] == {}, (events_run["examples"], events_run["hooks"])
    assert f["faults"] == dict.fromkeys(EVENT_FAULTS, 2), f["faults"]  # the cap, reached
    statuses = {h["name"]: h["status"] for h in events_run["hooks"]}
    assert statuses == dict.fromkeys(
        ("ledger-verify", "events-drained", "events-published", "events-applied-once",
         "events-read-models", "events-dlq"), "ok"), events_run["hooks"]
    published, applied = f["events-published"], f["events-applied-once"]
    # One event per seed deposit and per completed transfer.
    assert published["events"] == f["accounts"] + f["settled_201"]
    assert applied["applied_once_audit"] == applied["applied_once_activity"] == published["events"]
    # The relay crashed after publishing: those rows went out again, and the tap saw repeats.
    assert published["sent_by_crashed_relays"] > 0 and published["duplicates_delivered"] > 0
    assert f["events-dlq"]["poison_injected"] == f["faults"]["poison"]
    drains = f["events-drained"]["drain_after_broker_returned_s"]
    assert len(drains) >= 2 and all(d is not None for d in drains), drains


def _violations(result: HookResult) -> str:
    assert result.status == "violation", result
    return result.detail


@contextmanager
def _conn(env: ChaosEnv) -> Iterator[psycopg.Connection]:
    with psycopg.connect(env.database_url, autocommit=True) as conn:
        yield conn


def test_hooks_catch_an_event_left_unpublished(events_env: ChaosEnv, events_run: dict) -> None:
    session = events_env.session
    assert session is not None
    session.workers["relay"].stop()  # nobody publishes it again while the hooks look
    bound = events_env.options["drain_bound_s"]
    with _conn(events_env) as conn:
        conn.execute("UPDATE outbox SET published_at = NULL WHERE seq = %s",
                     (outbox_last_seq(events_env),))
        try:
            events_env.options["drain_bound_s"] = 1.0
            assert "not drained" in _violations(hooks.events_drained(events_env))
            assert "1 events never published" in _violations(hooks.events_published(events_env))
        finally:
            events_env.options["drain_bound_s"] = bound
            session.workers["relay"].start()
    assert wait_drained(events_env, outbox_last_seq(events_env), 30)
    assert hooks.events_published(events_env).status == "ok"


def test_hooks_catch_a_transfer_without_its_event(events_env: ChaosEnv, events_run: dict) -> None:
    with _conn(events_env) as conn:
        row = conn.execute("SELECT seq, payload ->> 'transfer_id' FROM outbox WHERE created_at"
                           " >= %s ORDER BY seq DESC LIMIT 1", (since(events_env),)).fetchone()
        assert row is not None
        conn.execute("UPDATE outbox SET payload = jsonb_set(payload, '{transfer_id}', '\"x\"')"
                     " WHERE seq = %s", (row[0],))
        try:
            detail = _violations(hooks.events_published(events_env))
        finally:
            conn.execute("UPDATE outbox SET payload = jsonb_set(payload, '{transfer_id}',"
                         " to_jsonb(%s::text)) WHERE seq = %s", (row[1], row[0]))
    assert "1 committed transfers without an event" in detail
    assert hooks.events_published(events_env).status == "ok"


def test_hooks_catch_a_missing_processed_event(events_env: ChaosEnv, events_run: dict) -> None:
    with _conn(events_env) as conn:
        row = conn.execute("DELETE FROM processed_events WHERE ctid = (SELECT ctid FROM"
                           " processed_events WHERE consumer = 'audit' AND processed_at >= %s"
                           " LIMIT 1) RETURNING *", (since(events_env),)).fetchone()
        assert row is not None
        try:
            detail = _violations(hooks.events_applied_once(events_env))
        finally:
            conn.execute(f"INSERT INTO processed_events VALUES ({', '.join(['%s'] * len(row))})",
                         row)
    assert "audit: 1 events never applied" in detail
    assert "audit: 1 effects without a processed event" in detail
    assert hooks.events_applied_once(events_env).status == "ok"


def test_hooks_catch_a_read_model_that_drifts(events_env: ChaosEnv, events_run: dict) -> None:
    with _conn(events_env) as conn:
        key = conn.execute("UPDATE account_activity SET amount = amount + 1 WHERE ctid = (SELECT"
                           " ctid FROM account_activity WHERE amount > 0 LIMIT 1)"
                           " RETURNING entry_id, account_id, bucket").fetchone()
        assert key is not None
        try:
            detail = _violations(hooks.events_read_models(events_env))
        finally:
            conn.execute("UPDATE account_activity SET amount = amount - 1 WHERE entry_id = %s"
                         " AND account_id = %s AND bucket = %s", key)
    assert "1 drifting account buckets" in detail
    assert hooks.events_read_models(events_env).status == "ok"


def test_hooks_catch_a_dead_letter_that_is_not_the_poison(
        events_env: ChaosEnv, events_run: dict) -> None:
    with _conn(events_env) as conn:
        (stray,) = conn.execute(
            "INSERT INTO dead_letters (consumer, error, attempts, topic, kafka_partition,"
            " kafka_offset, record_value) VALUES ('audit', 'boom', 3, 't', 0, 0, 'x')"
            " RETURNING id").fetchone() or (None,)
        try:
            assert "1 dead letters that are not injected poison" in _violations(
                hooks.events_dlq(events_env))
        finally:
            conn.execute("DELETE FROM dead_letters WHERE id = %s", (stray,))
    poison = events_env.measures["events.poison"]
    poison.append("00000000-0000-4000-8000-000000000000")  # injected, never dead-lettered
    try:
        assert "poison 00000000 not dead-lettered" in _violations(hooks.events_dlq(events_env))
    finally:
        poison.pop()
    assert hooks.events_dlq(events_env).status == "ok"


def test_the_results_file_carries_the_event_figures(events_run: dict) -> None:
    saved = Path(events_run["log"]).with_suffix(".json").read_text()
    for figure in ("duplicates_delivered", "applied_once_audit", "drain_after_broker_returned_s"):
        assert figure in saved
