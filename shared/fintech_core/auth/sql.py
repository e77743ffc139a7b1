"""The auth slice's PostgreSQL adapter: users, service clients, refresh families, login
failures. Registered as the unit-of-work extension "auth" (phase 4's manifest); every method
runs in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fintech_core.auth.principals import ClientKind, Role, parse_roles
from fintech_core.auth.refresh import Identity, Refused, Rotated, token_hash
from fintech_core.auth.throttle import FailureCount
from fintech_core.db.write_behind import Session
from fintech_core.domain.ids import uuid7


class SqlAuth:
    def __init__(self, conn: Session) -> None:
        self.conn = conn

    # --- identities -----------------------------------------------------------------------
    async def add_user(self, username: str, password_hash: str, roles: frozenset[Role]) -> None:
        await self.conn.execute(
            "INSERT INTO auth_users (username, password_hash, roles) VALUES (%s, %s, %s)",
            (username, password_hash, sorted(roles)))

    async def user(self, username: str) -> tuple[str, frozenset[Role]] | None:
        cur = await self.conn.execute(
            "SELECT password_hash, roles FROM auth_users WHERE username = %s", (username,))
        row = await cur.fetchone()
        return (row[0], parse_roles(row[1])) if row else None

    async def add_client(self, client_id: str, secret_hash: str) -> None:
        await self.conn.execute(
            "INSERT INTO auth_clients (client_id, secret_hash, roles) VALUES (%s, %s, %s)",
            (client_id, secret_hash, ["service"]))

    async def client(self, client_id: str) -> tuple[str, frozenset[Role]] | None:
        cur = await self.conn.execute(
            "SELECT secret_hash, roles FROM auth_clients WHERE client_id = %s", (client_id,))
        row = await cur.fetchone()
        return (row[0], parse_roles(row[1])) if row else None

    # --- refresh families (auth/refresh.py's RefreshStore) ------------------------------------
    async def start_family(self, identity: Identity, token: str, expires_at: datetime,
                           now: datetime) -> UUID:
        family = uuid7()
        await self.conn.execute(
            "INSERT INTO refresh_families (id, subject, client, roles, created_at) "
            "VALUES (%s, %s, %s, %s, %s)",
            (family, identity.subject, identity.client.value, sorted(identity.roles), now))
        await self._add_token(family, token, expires_at, now)
        return family

    async def _add_token(self, family: UUID, token: str, expires_at: datetime,
                         now: datetime) -> None:
        await self.conn.execute(
            "INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at) "
            "VALUES (%s, %s, %s, %s)", (token_hash(token), family, now, expires_at))

    async def rotate(self, token: str, successor: str, expires_at: datetime,
                     now: datetime) -> Rotated | Refused:
        # Both rows locked: a concurrent exchange of the same token (or of another token of the
        # family) waits here, then finds this one rotated and is treated as reuse.
        cur = await self.conn.execute(
            "SELECT t.family_id, t.expires_at, t.rotated_at, f.revoked_at, f.subject, f.client, "
            "f.roles FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id "
            "WHERE t.token_hash = %s FOR UPDATE OF t, f", (token_hash(token),))
        row: Any = await cur.fetchone()
        if row is None:
            return Refused("unknown")
        family, expires, rotated_at, revoked_at, subject, client, roles = row
        if revoked_at is not None:
            return Refused("revoked", family)
        if rotated_at is not None:
            await self.revoke(family, "reuse", now)
            return Refused("reused", family)
        if expires <= now:
            return Refused("expired", family)
        await self.conn.execute(
            "UPDATE refresh_tokens SET rotated_at = %s WHERE token_hash = %s",
            (now, token_hash(token)))
        await self._add_token(family, successor, expires_at, now)
        identity = Identity(subject, parse_roles(roles), ClientKind(client))
        return Rotated(identity, successor, family)

    async def revoke(self, family_id: UUID, reason: str, now: datetime) -> None:
        await self.conn.execute(
            "UPDATE refresh_families SET revoked_at = %s, revoked_reason = %s "
            "WHERE id = %s AND revoked_at IS NULL", (now, reason, family_id))

    # --- login failures (auth/throttle.py) -----------------------------------------------------
    async def failures(self, scope: str, key: str) -> FailureCount | None:
        cur = await self.conn.execute(
            "SELECT failures, last_failure_at FROM login_failures WHERE scope = %s AND key = %s",
            (scope, key))
        row = await cur.fetchone()
        return FailureCount(row[0], row[1]) if row else None

    async def record_failure(self, scope: str, key: str, now: datetime,
                             forget_before: datetime) -> None:
        """One more consecutive failure; a count older than `forget_before` starts again."""
        await self.conn.execute(
            "INSERT INTO login_failures AS f (scope, key, failures, last_failure_at) "
            "VALUES (%s, %s, 1, %s) ON CONFLICT (scope, key) DO UPDATE SET "
            "failures = CASE WHEN f.last_failure_at < %s THEN 1 ELSE f.failures + 1 END, "
            "last_failure_at = excluded.last_failure_at", (scope, key, now, forget_before))

    async def clear_failures(self, scope: str, key: str) -> None:
        await self.conn.execute("DELETE FROM login_failures WHERE scope = %s AND key = %s",
                                (scope, key))
