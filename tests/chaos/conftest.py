"""A dedicated database and API process for chaos runs.

The run terminates the API's backends and kills its process, so it gets its own database
(`fincore_test_chaos_p0`) and its own API: the session's other API processes never see a fault.
PostgreSQL restart is left out here (`postgres=None`): it would break the pools of every other
API in the session; `make chaos` runs it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fintech_core.chaos.env import ChaosEnv
from fintech_core.db.admin import drop_database
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port

PREFIX = "fincore_test_chaos"


@pytest.fixture(scope="module")
def chaos_env(lab: Lab) -> Iterator[ChaosEnv]:
    chaos_lab = Lab(lab.settings.model_copy(update={"database_prefix": PREFIX}))
    drop_database(chaos_lab.database_url(), f"{PREFIX}_p0")
    url = chaos_lab.prepare_database(0)
    api = chaos_lab.api(0, port=free_port(), drill_mode=True, naive_baseline=True)
    api.start()
    try:
        yield ChaosEnv(api, url, postgres=None, phase=0)
    finally:
        api.stop()
