"""`fcl auth seed | users | token` as real processes (the draft registry's own `fcl`,
`python -m tests.phase4_draft`) on the session's PostgreSQL and a real API process."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psycopg
import pytest

from fintech_core.auth.seed import SEEDED, load_seeded, seeded_path
from fintech_core.db.admin import drop_database
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from tests.integration.auth_support import api_process, phase4_settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def settings(lab: Lab) -> Iterator[Settings]:
    with tempfile.TemporaryDirectory(prefix="fincore-authcli-") as d:
        s = phase4_settings(lab, "authcli", Path(d))
        drop_database(s.database_url, s.database_name())  # type: ignore[arg-type]
        yield s
        drop_database(s.database_url, s.database_name())  # type: ignore[arg-type]


def fcl(settings: Settings, *args: str, api: str | None = None) -> subprocess.CompletedProcess[str]:
    env = Lab(settings).env(phase=settings.phase)
    if api:
        parsed = urlparse(api)
        env.update(FINCORE_API_HOST=parsed.hostname or "", FINCORE_API_PORT=str(parsed.port))
    return subprocess.run([sys.executable, "-m", "tests.phase4_draft", "auth", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_seed_users_and_token_from_the_command_line(lab: Lab, settings: Settings) -> None:
    first = fcl(settings, "seed")
    assert first.returncode == 0, first.stderr
    assert f"{len(SEEDED)} row(s) written" in first.stdout
    assert seeded_path(settings).exists()
    url = Lab(settings).phase_database_url(settings.phase)
    with psycopg.connect(url, autocommit=True) as sql:
        seeded = {r[0] for r in sql.execute("SELECT username FROM auth_users UNION ALL "
                                            "SELECT client_id FROM auth_clients")}
        assert seeded == {i.name for i in SEEDED}
        again = fcl(settings, "seed")
        assert again.returncode == 0 and "0 row(s) written" in again.stdout
        sql.execute("UPDATE auth_users SET roles = '{admin}' WHERE username = 'bob'")
        repaired = fcl(settings, "seed")
        assert repaired.returncode == 0 and "1 row(s) written" in repaired.stdout
        assert sql.execute("SELECT roles FROM auth_users WHERE username = 'bob'").fetchone() == (
            ["customer"],)

    listed = fcl(settings, "users")
    assert listed.returncode == 0, listed.stderr
    recorded = load_seeded(settings)
    for name in ("alice", "ada", "lab-driver"):
        assert name in listed.stdout and recorded[name]["secret"] in listed.stdout
    assert "never in production" in listed.stdout

    with api_process(lab, settings) as api:
        got = fcl(settings, "token", "alice", api=api)
        assert got.returncode == 0, got.stderr
        token = got.stdout.strip()
        assert got.stdout == token + "\n" and token.count(".") == 2  # only the JWT
        who = httpx.get(f"{api}/_test/whoami", headers={"Authorization": f"Bearer {token}"})
        assert who.status_code == 200 and who.json()["subject"] == "alice"
        client = fcl(settings, "token", "payments-worker", api=api)
        assert client.returncode == 0, client.stderr
        who = httpx.get(f"{api}/_test/whoami",
                        headers={"Authorization": f"Bearer {client.stdout.strip()}"})
        assert who.json() == {"subject": "payments-worker", "roles": ["service"],
                              "client": "service"}
        unknown = fcl(settings, "token", "mallory", api=api)
        assert unknown.returncode == 1 and unknown.stdout == ""
        assert "not a seeded identity" in unknown.stderr
    down = fcl(settings, "token", "alice", api=api)  # the API has stopped
    assert down.returncode == 1 and down.stdout == "" and "cannot reach the API" in down.stderr
