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
from fintech_core.stack.lab import Lab
from phases import composition
from tests.conftest import dedicated_api


@pytest.fixture(scope="module")
def chaos_env(lab: Lab) -> Iterator[ChaosEnv]:
    for api, url in dedicated_api(lab, "fincore_test_chaos", drill_mode=True, naive_baseline=True):
        yield ChaosEnv(api, url, postgres=None, phase=0, hooks=composition(0).chaos_hooks)
