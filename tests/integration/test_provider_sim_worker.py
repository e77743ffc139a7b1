"""The simulator as a phase's worker: `up` waits for its HTTP health check, `status` reports
it, the `fcl provider` group drives it, and a LabSession never takes the lab's port 8090."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx
import pytest

from fintech_core.db.admin import drop_database
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port
from fintech_core.stack.session import LabSession
from phases import composition
from tests.provider_sim_phase import PROVIDER_REGISTRY

pytestmark = pytest.mark.integration


def test_a_port_holding_worker_is_ready_when_its_health_url_answers(lab: Lab) -> None:
    lab_dir = Path(tempfile.mkdtemp(prefix="fincore-provider-worker-"))
    prefix = f"fincore_test_w{uuid.uuid4().hex[:8]}"
    own = Lab(lab.settings.model_copy(update={"lab_dir": lab_dir, "database_prefix": prefix}))
    port = free_port()
    composed = PROVIDER_REGISTRY.composition(PROVIDER_REGISTRY.latest())
    [worker] = [w for w in own.workers(composed, tag="t", provider_port=port)
                if w.spec.name == "provider"]
    assert worker.health_url == f"http://127.0.0.1:{port}/health"
    assert not worker.health().ok  # nothing answers yet: a pid file is not health
    try:
        assert worker.start() is True  # returns once /health answered 200
        assert httpx.get(worker.health_url).json() == {"status": "ok"}
        health = worker.health()
        assert health.ok and health.where == worker.health_url
        env = {**worker.env, "FINCORE_PROVIDER_PORT": str(port)}
        cli = [sys.executable, "-m", "tests.provider_sim_phase", "provider"]
        out = subprocess.run([*cli, "knobs", "set", "ledgerpay", "decline=true", "times=2"],
                             env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert '"times": 2' in out.stdout and '"decline": true' in out.stdout
        out = subprocess.run([*cli, "reset"], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and '"entries": {}' in out.stdout, out.stderr
    finally:
        worker.stop()
        drop_database(own.database_url(), f"{prefix}_provider")
        shutil.rmtree(lab_dir, ignore_errors=True)
    assert not worker.health().ok


def test_a_session_gives_the_provider_a_port_of_its_own(lab: Lab) -> None:
    default = Settings.model_fields["provider_port"].default
    with LabSession(composition(0), settings=lab.settings) as session:
        port = session.lab.settings.provider_port
        assert port != default and port != lab.settings.provider_port
        assert session.api.env["FINCORE_PROVIDER_PORT"] == str(port)
    assert default not in {free_port() for _ in range(50)}
