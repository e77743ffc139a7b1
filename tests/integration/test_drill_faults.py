"""The fault injectors the drills rely on, each proven against the real server it breaks."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from fintech_core.drills import dbfaults, inject
from fintech_core.drills.drill import Stage
from fintech_core.drills.timeline import Timeline
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port, port_open
from fintech_core.stack.session import LabSession
from tests.helpers import new_key, open_account, transfer_body

pytestmark = pytest.mark.integration


def stage_of(s: LabSession) -> Stage:
    return Stage(s.lab, s.api, s.database_url, s.composition)


def test_broker_really_goes_down_and_comes_back(lab: Lab, server_dir: Path) -> None:
    # A broker of its own: memory storage loses every topic on a restart, which must not
    # happen to a broker other tests share.
    own = Lab(lab.settings.model_copy(update={
        "lab_dir": server_dir, "broker_port": free_port(), "kafka_bootstrap": None,
        "database_url": lab.database_url(), "redis_url": lab.redis_url()}))
    assert own.broker is not None and own.postgres is None and own.redis is None
    own.broker.start()
    timeline = Timeline()
    try:
        inject.broker_down(own, timeline)
        assert not port_open(own.broker.host, own.broker.port)
        assert not own.broker.health().ok
        inject.broker_up(own, timeline)
        health = own.broker.health()  # a real Kafka metadata request
        assert health.ok, health.detail
    finally:
        own.broker.stop()
    assert [e.actor for e in timeline.events()] == ["broker", "broker"]


def test_terminating_the_backend_mid_transaction_rolls_it_back(
        drill_session: LabSession) -> None:
    api, s, timeline = drill_session.url, drill_session, Timeline()
    a, b = open_account(api, funded=500, auth=s.auth), open_account(api, auth=s.auth)
    httpx.post(f"{api}/_drill/faults", json={"point": "transfer.before_commit",
                                             "action": "delay", "delay_ms": 3000}, auth=s.auth)
    key, answers = new_key(), []
    sender = threading.Thread(target=lambda: answers.append(httpx.post(
        f"{api}/transfers", json=transfer_body(a, b, 200), headers={"Idempotency-Key": key},
        timeout=15, auth=s.auth)))
    sender.start()
    inject.wait_for("the transaction to open", lambda: dbfaults.open_transactions(s.database_url) > 0)
    assert dbfaults.terminate_backends(s.database_url, timeline) == 1
    sender.join()
    assert answers[0].status_code == 503 and answers[0].json()["code"] == "service-unavailable"
    assert s.sql("SELECT balance FROM accounts WHERE id = %s", (a,)) == [(500,)]
    assert s.sql("SELECT count(*) FROM transfers WHERE source_id = %s", (a,)) == [(0,)]
    retry = httpx.post(f"{api}/transfers", json=transfer_body(a, b, 200),
                       headers={"Idempotency-Key": key}, timeout=15, auth=s.auth)
    assert retry.status_code == 201 and "idempotent-replayed" not in retry.headers
    assert s.sql("SELECT balance FROM accounts WHERE id = %s", (a,)) == [(300,)]


def test_a_crash_point_kills_the_process_after_commit(drill_session: LabSession) -> None:
    api, s, timeline = drill_session.url, drill_session, Timeline()
    a, b = open_account(api, funded=500, auth=s.auth), open_account(api, auth=s.auth)
    pid = s.api.running_pid()
    httpx.post(f"{api}/_drill/faults", json={"point": "transfer.after_commit", "action": "crash"},
               auth=s.auth)
    key = new_key()
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{api}/transfers", json=transfer_body(a, b, 50),
                   headers={"Idempotency-Key": key}, timeout=15, auth=s.auth)
    inject.wait_for("the API process to exit", lambda: s.api.running_pid() is None)
    assert s.sql("SELECT balance FROM accounts WHERE id = %s", (a,)) == [(450,)]  # committed
    inject.restart_api(stage_of(s), timeline)
    assert s.api.running_pid() not in (None, pid)
    retry = httpx.post(f"{api}/transfers", json=transfer_body(a, b, 50),
                       headers={"Idempotency-Key": key}, timeout=15, auth=s.auth)
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
