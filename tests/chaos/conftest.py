"""A dedicated database and API process for chaos runs.

The run terminates the API's backends and kills its process, so it gets its own database
(`fincore_test_chaos_p0`) and its own API: the session's other API processes never see a fault.
PostgreSQL restart is left out here (`postgres=None`): it would break the pools of every other
API in the session; `make chaos` runs it.

The events run (phase 2) gets a LabSession of its own: its API, its relay and consumer workers,
and its own embedded broker (on a free port, under its own lab directory), because the
broker-stop fault stops it: the session broker the other suites use is never touched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fintech_core.chaos.env import ChaosEnv
from fintech_core.db.admin import drop_database
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port
from fintech_core.stack.session import LabSession
from phases import composition
from tests.conftest import dedicated_api


@pytest.fixture(scope="module")
def chaos_env(lab: Lab) -> Iterator[ChaosEnv]:
    """One transaction per request (group commit off): the baseline path keeps its chaos run;
    the default, batching, has its own (test_group_commit_chaos.py)."""
    for api, url in dedicated_api(lab, "fincore_test_chaos", drill_mode=True, naive_baseline=True,
                                  group_commit=False):
        yield ChaosEnv(api, url, postgres=None, phase=0, hooks=composition(0).chaos_hooks)


EVENTS_PREFIX = "fincore_test_chaos_ev"
# Long enough that the relay's publishes (5 s producer block, then backoff from 0.2 s) and the
# consumers' reconnects (1 s pause, 7 s request timeout, 6 s session timeout) fail and retry at
# least twice each; `make chaos` keeps the broker down 60 s. Each outage costs the CI run this
# plus the drain (a few seconds).
CI_BROKER_OUTAGE_S = 10.0


@pytest.fixture(scope="module")
def events_env(lab: Lab) -> Iterator[ChaosEnv]:
    own_dir = Path(tempfile.mkdtemp(prefix="fincore-chaos-events-"))
    own_dir.chmod(0o755)
    settings = lab.settings.model_copy(update={
        "lab_dir": own_dir, "database_url": lab.database_url(), "redis_url": lab.redis_url(),
        "kafka_bootstrap": None, "broker_port": free_port(), "database_prefix": EVENTS_PREFIX,
        "phase": 2})
    drop_database(lab.database_url(), f"{EVENTS_PREFIX}_p2")
    composed = composition(2)
    try:
        with LabSession(composed, settings=settings) as s:
            yield ChaosEnv(s.api, s.database_url, None, 2, composed.chaos_hooks,
                           composed.chaos_faults, s,
                           {"broker_outage_s": CI_BROKER_OUTAGE_S, "drain_bound_s": 90.0})
    finally:
        shutil.rmtree(own_dir, ignore_errors=True)


PAYMENTS_PREFIX = "fincore_test_chaos_pay"


@pytest.fixture(scope="module")
def payments_env(lab: Lab) -> Iterator[ChaosEnv]:
    """Phase 3: its API, relay, consumers, provider simulator and payments worker on a lab
    directory of its own (its secrets.json) and its own broker; the session gives the simulator
    a free port and tells every child process."""
    own_dir = Path(tempfile.mkdtemp(prefix="fincore-chaos-payments-"))
    own_dir.chmod(0o755)
    settings = lab.settings.model_copy(update={
        "lab_dir": own_dir, "database_url": lab.database_url(), "redis_url": lab.redis_url(),
        "kafka_bootstrap": None, "broker_port": free_port(), "database_prefix": PAYMENTS_PREFIX,
        "phase": 3})
    drop_database(lab.database_url(), f"{PAYMENTS_PREFIX}_p3")
    drop_database(lab.database_url(), f"{PAYMENTS_PREFIX}_provider")
    composed = composition(3)
    names = {"FINCORE_PAYMENTS_POLL_MAX_SECONDS": "4"}
    saved = {k: os.environ.get(k) for k in names}
    os.environ.update(names)
    try:
        with LabSession(composed, settings=settings) as s:
            env = ChaosEnv(s.api, s.database_url, None, 3, composed.chaos_hooks,
                           composed.chaos_faults, s,
                           {"broker_outage_s": CI_BROKER_OUTAGE_S, "drain_bound_s": 90.0})
            try:
                yield env
            finally:  # a simulator a hook started after the run's faults ended
                sim = env.measures.pop("payments.simulator", None)
                if sim is not None:
                    sim.stop()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(own_dir, ignore_errors=True)
