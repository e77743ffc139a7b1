"""The lab's seeded identities: people who log in with a password and machine clients.

`seed_lab_identities(settings, database_url)` (a `Phase.seeders` entry, run after migrations)
guarantees, once it returns:
- every identity of SEEDED exists in the database with exactly its roles and the scrypt hash of
  its password (or client secret) as recorded in `<lab_dir>/auth/seeded.json`;
- that file exists, mode 0600 in a 0700 directory, written atomically (a temporary file renamed
  over it): a crash leaves the old file or the new one, never half of one;
- the passwords are generated once per lab directory (`secrets`, 144 bits) and reused on every
  later run, so `make up` twice, or a second phase's database, gives alice the same password;
  an identity added to SEEDED later gets one at the next run, the others are kept;
- it is idempotent and cheap on a re-run: the file keeps each secret's hash, so a re-run does no
  scrypt work and writes a row only where it differs (another password, other roles);
- concurrent runs (two processes preparing databases of one lab) serialize on a lock file, so
  they cannot generate two different secrets for one identity.

The passwords are in clear in that file because this is a local lab: `fcl auth users` shows
them so that a student can log in as alice. A production system seeds no users at all.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from fintech_core.auth.passwords import hash_password
from fintech_core.auth.principals import Role
from fintech_core.settings import Settings


@dataclass(frozen=True)
class SeededIdentity:
    name: str  # username, or client_id for a machine client
    roles: frozenset[Role]
    kind: str  # "user" (password grant) or "client" (client_credentials)
    about: str


R = Role
SEEDED: tuple[SeededIdentity, ...] = (
    SeededIdentity("alice", frozenset({R.CUSTOMER}), "user", "a customer"),
    SeededIdentity("bob", frozenset({R.CUSTOMER}), "user", "another customer"),
    SeededIdentity("sam", frozenset({R.SUPPORT}), "user", "support: reads any account, freezes"),
    SeededIdentity("ada", frozenset({R.ADMIN}), "user", "admin: limits, unfreeze, close"),
    SeededIdentity("aud", frozenset({R.AUDITOR}), "user", "auditor: reads, verifies the ledger"),
    SeededIdentity("payments-worker", frozenset({R.SERVICE}), "client",
                   "the payments worker (service)"),
    # The lab's own test driver: drills, chaos, bench and notebooks open, fund and move money
    # and arm drill faults with it. A production system would have no such client: one machine
    # credential holding a customer's, an admin's and a service's permissions at once is the
    # opposite of least privilege. It exists because the lab drives itself.
    SeededIdentity("lab-driver", frozenset({R.CUSTOMER, R.SERVICE, R.ADMIN}), "client",
                   "the lab's own test driver (drills, chaos, bench); no production system "
                   "has such a client"),
)
LAB_DRIVER = "lab-driver"


def seeded_path(settings: Settings) -> Path:
    return settings.lab_dir / "auth" / "seeded.json"


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory.chmod(0o700)  # also when runtime.py created it first, with the umask's mode
    fd = os.open(directory / "seeded.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_seeded(settings: Settings) -> dict[str, dict[str, Any]]:
    """name -> {"secret", "hash", "roles", "kind"} from seeded.json; FileNotFoundError (with
    what to run) if the lab was never seeded."""
    path = seeded_path(settings)
    try:
        data: dict[str, dict[str, Any]] = json.loads(path.read_text())["identities"]
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist: run `fcl auth seed` (or `make up` with "
                                f"phase 4) first") from None
    return data


def _secrets_for(path: Path) -> dict[str, dict[str, Any]]:
    """The recorded identities, completed with a fresh secret for any SEEDED one missing, and
    written back if anything was added or changed (roles of a SEEDED entry)."""
    try:
        recorded: dict[str, dict[str, Any]] = json.loads(path.read_text())["identities"]
    except FileNotFoundError:
        recorded = {}
    changed = False
    for ident in SEEDED:
        entry = recorded.get(ident.name)
        roles = sorted(ident.roles)
        if entry is None or entry.get("kind") != ident.kind:
            secret = secrets.token_urlsafe(18)
            recorded[ident.name] = {"secret": secret, "hash": hash_password(secret),
                                    "roles": roles, "kind": ident.kind}
            changed = True
        elif entry["roles"] != roles:
            entry["roles"] = roles
            changed = True
    if changed or not path.exists():
        _write_atomically(path, {"about": "Seeded identities of this local lab (fcl auth "
                                          "users). Secrets in clear: never for production.",
                                 "identities": recorded})
    return recorded


_UPSERT = {
    "user": "INSERT INTO auth_users AS t (username, password_hash, roles) VALUES (%s, %s, %s) "
            "ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, "
            "roles = excluded.roles WHERE t.password_hash IS DISTINCT FROM excluded.password_hash "
            "OR t.roles IS DISTINCT FROM excluded.roles",
    "client": "INSERT INTO auth_clients AS t (client_id, secret_hash, roles) VALUES (%s, %s, %s) "
              "ON CONFLICT (client_id) DO UPDATE SET secret_hash = excluded.secret_hash, "
              "roles = excluded.roles WHERE t.secret_hash IS DISTINCT FROM excluded.secret_hash "
              "OR t.roles IS DISTINCT FROM excluded.roles",
}


def seed_lab_identities(settings: Settings, database_url: str) -> int:
    """Seed (or re-assert) SEEDED in the database at `database_url`; returns how many rows it
    inserted or changed (0 on an idempotent re-run)."""
    path = seeded_path(settings)
    with _locked(path.parent):
        recorded = _secrets_for(path)
        written = 0
        with psycopg.connect(database_url) as conn, conn.transaction():
            for ident in SEEDED:
                entry = recorded[ident.name]
                cur = conn.execute(_UPSERT[ident.kind],
                                   (ident.name, entry["hash"], sorted(ident.roles)))
                written += cur.rowcount
        return written
