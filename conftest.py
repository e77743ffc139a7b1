"""Notebooks executed in the same pytest session as the tests (`make test` runs both) run on the
session's PostgreSQL and Redis instead of embedding their own.

A notebook starts `LabSession(composition(N))`; with FINCORE_DATABASE_URL / FINCORE_REDIS_URL
set, the session uses those servers, on databases of its own (`fincore_s<pid>_p<N>`, dropped at
close) and still embeds its own broker, API and workers: nothing a notebook does (stop its
broker, kill its relay, arm a fault) reaches another test's processes. What this saves is an
initdb, a PostgreSQL and a Redis start and stop per notebook. The own-servers start a reader
gets is still tested: tests/integration/test_session_isolation.py starts a LabSession the way
the notebooks do, and `make notebooks` (no test servers running) runs them that way.

The variables are set only while pytest sets up a notebook's cells (nbval starts the kernel
there, and the kernel keeps the environment it started with), then restored; servers the user
named already (external FINCORE_* URLs) are left as they are.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest


def _session_servers() -> dict[str, str]:
    tests_conftest = sys.modules.get("tests.conftest")
    lab = getattr(tests_conftest, "STARTED_LAB", None)
    if lab is None:
        return {}
    servers = {"FINCORE_DATABASE_URL": lab.database_url(), "FINCORE_REDIS_URL": lab.redis_url()}
    return {k: v for k, v in servers.items() if not os.environ.get(k)}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    names = _session_servers() if item.path.suffix == ".ipynb" else {}
    os.environ.update(names)
    try:
        yield
    finally:
        for k in names:
            os.environ.pop(k, None)
