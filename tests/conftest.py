"""Test fixtures: a real PostgreSQL, Redis and broker for the whole session.

By default the session starts its own embedded servers on free ports under a temporary lab
directory (so it never touches a developer's `make up` data) and stops them at the end. If
FINCORE_DATABASE_URL / FINCORE_REDIS_URL / FINCORE_KAFKA_BOOTSTRAP are set, those servers are
used instead; test databases are then named fincore_test_p<phase> and recreated per session.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from fintech_core.db.admin import drop_database
from fintech_core.settings import Settings
from fintech_core.stack.api_server import ApiServer
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port
from fintech_core.stack.session import LabSession
from phases import composition, latest

TEST_DB_PREFIX = "fincore_test"


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    # Not tmp_path_factory: pytest keeps only the newest few basetemp dirs per user and deletes
    # older ones when *any* session starts, so on a shared machine another session of the same
    # user could delete this lab's PostgreSQL data directory while the tests run.
    # Each new session also resets /tmp/pytest-of-<user> to 0700, which locks PostgreSQL's service
    # user out mid-run (seen: `pg_ctl status` goes blind, then a checkpoint PANICs).
    lab_dir = Path(tempfile.mkdtemp(prefix="fincore-lab-"))
    lab_dir.chmod(0o755)  # the embedded PostgreSQL runs as its own user when we are root
    settings = Settings(
        lab_dir=lab_dir, pg_port=free_port(), redis_port=free_port(), broker_port=free_port(),
        database_prefix=TEST_DB_PREFIX,
    )
    the_lab = Lab(settings)
    try:
        the_lab.start_servers()
        yield the_lab
    finally:
        the_lab.down()
        shutil.rmtree(lab_dir, ignore_errors=True)


@pytest.fixture
def server_dir() -> Iterator[Path]:
    """A directory for a test that starts servers of its own (pid files, data, logs). Not
    tmp_path: a pytest session starting elsewhere prunes older basetemp directories, and with
    them the pid files a running server is stopped by (seen: a port still listening after
    `down`, because its pid file was gone)."""
    path = Path(tempfile.mkdtemp(prefix="fincore-test-servers-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


_prepared: dict[int, str] = {}


def phase_database(lab: Lab, phase: int) -> str:
    """A freshly created and migrated database for `phase`, once per session."""
    if phase not in _prepared:
        name = lab.settings.model_copy(update={"phase": phase}).database_name()
        drop_database(lab.database_url(), name)
        _prepared[phase] = lab.prepare_database(composition(phase))
    return _prepared[phase]


@pytest.fixture(scope="session")
def db0(lab: Lab) -> str:
    return phase_database(lab, 0)


@pytest.fixture
def sql(db0: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection for reading what really is in the database."""
    with psycopg.connect(db0, autocommit=True) as conn:
        yield conn


def start_api(lab: Lab, phase: int, **flags: object) -> Iterator[str]:
    phase_database(lab, phase)
    server = lab.api(composition(phase), port=free_port(), host="127.0.0.1",
                     naive_baseline=True, drill_mode=True, **flags)
    server.start()
    try:
        yield server.url()
    finally:
        server.stop()


def dedicated_api(lab: Lab, prefix: str, phase: int = 0,
                  **flags: object) -> Iterator[tuple[ApiServer, str]]:
    """An API process on its own freshly migrated database (`<prefix>_p<phase>`), for suites that
    fill tables or break connections (chaos, fuzzing) without disturbing the others."""
    own = Lab(lab.settings.model_copy(update={"database_prefix": prefix}))
    drop_database(own.database_url(), f"{prefix}_p{phase}")
    url = own.prepare_database(composition(phase))
    server = own.api(composition(phase), port=free_port(), **flags)
    server.start()
    try:
        yield server, url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def api0(lab: Lab) -> Iterator[str]:
    """Base URL of a real phase-0 API process (uvicorn) with the naive baseline and drill mode."""
    yield from start_api(lab, 0)


@pytest.fixture(scope="module")
def drill_session(lab: Lab) -> Iterator[LabSession]:
    """A LabSession on the test servers for one module: its own API (naive baseline and drill
    mode on) for the latest phase, reused by every drill in the module to pay start-up once."""
    phase_database(lab, latest())
    session = LabSession(composition(latest()), settings=lab.settings)
    yield session
    session.close()  # stops its API only: the servers belong to the `lab` fixture


@pytest.fixture(scope="session")
def api1(lab: Lab) -> Iterator[str]:
    """Base URL of a real phase-1 API process (ledger, holds, sweeper), drill mode on."""
    yield from start_api(lab, 1, hold_sweep_interval_seconds=0.2)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def pytest_report_header(config: pytest.Config) -> str:
    external = [k for k in ("FINCORE_DATABASE_URL", "FINCORE_REDIS_URL", "FINCORE_KAFKA_BOOTSTRAP")
                if os.environ.get(k)]
    return "fincore servers: " + (f"external {external}" if external else "embedded, per session")
