"""A notebook or drill session beside a running lab (`make up`) shares nothing with it.

The test session's servers stand in for `make up`: the environment points at them exactly as a
notebook kernel's would point at the lab's defaults (FINCORE_LAB_DIR and the FINCORE_*_PORT
values), and a LabSession is started the way the notebooks start one, with no settings.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import port_open
from fintech_core.stack.session import LabSession
from phases import composition

pytestmark = pytest.mark.integration

DEFAULT_PORTS = {int(Settings.model_fields[f].default)
                 for f in ("pg_port", "redis_port", "broker_port", "api_port")}


def snapshot(lab: Lab) -> dict[str, object]:
    """What a session must not change: the running lab's databases, server processes, health."""
    run, data = lab.settings.lab_dir / "run", lab.settings.lab_dir / "postgres" / "data"
    with psycopg.connect(lab.database_url(), autocommit=True) as conn:
        databases = sorted(r[0] for r in conn.execute("SELECT datname FROM pg_database"))
    return {"databases": databases,
            "postgres": (data / "postmaster.pid").read_text().splitlines()[0],
            "redis": (run / "redis.pid").read_text(), "broker": (run / "broker.pid").read_text(),
            "health": [(h.name, h.ok) for h in lab.status()]}


@pytest.fixture
def beside(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> Lab:
    """The environment of a notebook kernel next to `lab`, as if `lab` were `make up`."""
    if len(lab.embedded()) < 3:
        pytest.skip("the test servers are external (FINCORE_* URLs): there is no lab to stand in")
    for key in ("FINCORE_DATABASE_URL", "FINCORE_REDIS_URL", "FINCORE_KAFKA_BOOTSTRAP"):
        monkeypatch.delenv(key, raising=False)
    s = lab.settings
    monkeypatch.setenv("FINCORE_LAB_DIR", str(s.lab_dir))
    monkeypatch.setenv("FINCORE_PG_PORT", str(s.pg_port))
    monkeypatch.setenv("FINCORE_REDIS_PORT", str(s.redis_port))
    monkeypatch.setenv("FINCORE_BROKER_PORT", str(s.broker_port))
    monkeypatch.setenv("FINCORE_DATABASE_PREFIX", s.database_prefix)
    return lab


def test_a_session_beside_a_running_lab_has_its_own_servers_ports_and_broker(
        beside: Lab) -> None:
    lab = beside
    theirs = {lab.settings.pg_port, lab.settings.redis_port, lab.settings.broker_port}
    before = snapshot(lab)
    with LabSession(composition(2)) as session:  # phase 2: the relay and consumers, and a broker to stop
        own = session.lab.settings
        ports = {own.pg_port, own.redis_port, own.broker_port, session.api.port}
        assert own.lab_dir != lab.settings.lab_dir
        assert ports.isdisjoint(theirs | DEFAULT_PORTS), (ports, theirs)
        assert f":{own.pg_port}/" in session.database_url
        assert session.http.get("/ready").json()["phase"] == 2
        session.stop_broker()  # the phase-2 notebook's "broker down" section
        assert not port_open("127.0.0.1", own.broker_port)
        assert lab.broker is not None and lab.broker.health().ok
        session.start_broker()
        session.stop_redis()  # the interview notebook's "rate limiter down" question
        assert not port_open("127.0.0.1", own.redis_port)
        assert lab.redis is not None and lab.redis.health().ok
        session.start_redis()
        assert port_open("127.0.0.1", own.redis_port)
    assert snapshot(lab) == before
    assert not own.lab_dir.exists()
    assert not any(port_open("127.0.0.1", p) for p in ports)


def test_on_servers_named_by_url_a_session_has_its_own_database_and_refuses_to_stop_the_broker(
        beside: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    lab = beside
    monkeypatch.setenv("FINCORE_DATABASE_URL", lab.database_url())
    monkeypatch.setenv("FINCORE_REDIS_URL", lab.redis_url())
    monkeypatch.setenv("FINCORE_KAFKA_BOOTSTRAP", lab.kafka_bootstrap())
    before = snapshot(lab)
    # Phase 2 declares the relay and the consumers; the session starts only the one it names.
    with LabSession(composition(2), workers=("relay",)) as session:
        assert list(session.workers) == ["relay"]
        assert session.lab.embedded() == []  # nothing started: those servers are someone's
        name = session.database_url.rsplit("/", 1)[1]
        assert name not in before["databases"]  # type: ignore[operator]
        assert name.startswith(f"{lab.settings.database_prefix}_s")
        with pytest.raises(RuntimeError, match="unset FINCORE_KAFKA_BOOTSTRAP"):
            session.stop_broker()
        with pytest.raises(RuntimeError, match="unset FINCORE_REDIS_URL"):
            session.stop_redis()
    assert snapshot(lab) == before  # the session's database is dropped, the broker untouched
    assert not Path(session.lab.settings.lab_dir).exists()
