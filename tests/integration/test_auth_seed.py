"""The seeded identities on the real PostgreSQL: created once per lab directory, idempotent,
secrets kept in a 0600 file, repaired when the database drifted, and the migration's CHECK on
machine clients' roles."""

from __future__ import annotations

import json
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from fintech_core.auth.passwords import verify_password
from fintech_core.auth.seed import SEEDED, load_seeded, seed_lab_identities, seeded_path
from fintech_core.db.admin import drop_database
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from tests.integration.auth_support import COMPOSITION, phase4_settings, seeded_database

pytestmark = pytest.mark.integration


@pytest.fixture
def lab_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="fincore-seed-") as d:
        yield Path(d)


@pytest.fixture
def settings(lab: Lab, lab_dir: Path) -> Settings:
    return phase4_settings(lab, "seed", lab_dir)


def rows(url: str) -> dict[str, tuple[str, list[str]]]:
    with psycopg.connect(url) as sql:
        users = sql.execute("SELECT username, password_hash, roles FROM auth_users").fetchall()
        clients = sql.execute("SELECT client_id, secret_hash, roles FROM auth_clients").fetchall()
    return {name: (h, sorted(roles)) for name, h, roles in [*users, *clients]}


def test_seeding_creates_every_identity_and_a_private_secrets_file(settings: Settings) -> None:
    with seeded_database(settings) as url:
        path = seeded_path(settings)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        recorded = load_seeded(settings)
        in_db = rows(url)
        assert set(in_db) == {i.name for i in SEEDED} == set(recorded)
        assert in_db["lab-driver"][1] == ["admin", "customer", "service"]
        assert in_db["payments-worker"][1] == ["service"]
        assert {n: r for n, (_, r) in in_db.items() if n in {"alice", "bob", "sam", "ada", "aud"}} == {
            "alice": ["customer"], "bob": ["customer"], "sam": ["support"], "ada": ["admin"],
            "aud": ["auditor"]}
        for name, (stored_hash, _) in in_db.items():
            assert verify_password(recorded[name]["secret"], stored_hash), name
        assert len({e["secret"] for e in recorded.values()}) == len(SEEDED)  # all different


def test_a_rerun_changes_nothing_and_repairs_drift(settings: Settings) -> None:
    with seeded_database(settings) as url:
        before_file = seeded_path(settings).read_bytes()
        before_rows = rows(url)
        assert seed_lab_identities(settings, url) == 0
        assert seeded_path(settings).read_bytes() == before_file
        assert rows(url) == before_rows
        with psycopg.connect(url) as sql:  # someone changed bob's password and sam's roles
            sql.execute("UPDATE auth_users SET password_hash = %s WHERE username = 'bob'",
                        (before_rows["alice"][0],))
            sql.execute("UPDATE auth_users SET roles = '{admin}' WHERE username = 'sam'")
        assert seed_lab_identities(settings, url) == 2
        assert rows(url) == before_rows


def test_a_second_database_of_the_lab_gets_the_same_secrets(settings: Settings) -> None:
    with seeded_database(settings) as url:
        first = rows(url)
        other = settings.model_copy(update={"database_prefix": settings.database_prefix + "_b"})
        second_url = Lab(other).prepare_database(COMPOSITION, seed=False)
        try:
            assert seed_lab_identities(other, second_url) == len(SEEDED)
            assert rows(second_url) == first
        finally:
            drop_database(settings.database_url, other.database_name())  # type: ignore[arg-type]


def test_concurrent_first_runs_agree_on_one_set_of_secrets(settings: Settings) -> None:
    with seeded_database(settings) as url:
        seeded_path(settings).unlink()  # a lab dir never seeded, two processes seeding it
        errors: list[BaseException] = []

        def seed() -> None:
            try:
                seed_lab_identities(settings, url)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=seed) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        recorded = json.loads(seeded_path(settings).read_text())["identities"]
        for name, (stored_hash, _) in rows(url).items():
            assert verify_password(recorded[name]["secret"], stored_hash), name
        assert not list(seeded_path(settings).parent.glob("*.tmp"))


def test_the_migration_keeps_persons_roles_off_machine_clients(settings: Settings) -> None:
    with seeded_database(settings) as url, psycopg.connect(url, autocommit=True) as sql:
        some_hash = rows(url)["alice"][0]
        for roles in (["auditor", "service"], ["support", "service"], ["customer"], []):
            with pytest.raises(psycopg.errors.CheckViolation):
                sql.execute("INSERT INTO auth_clients (client_id, secret_hash, roles) "
                            "VALUES ('x', %s, %s)", (some_hash, roles))
        with pytest.raises(psycopg.errors.CheckViolation):
            sql.execute("INSERT INTO auth_users (username, password_hash, roles) "
                        "VALUES ('mallory', %s, '{service}')", (some_hash,))
