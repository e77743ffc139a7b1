"""Refresh tokens: rotated at every use, with reuse detection (OAuth 2.0 Security BCP, RFC 9700
§4.14.2).

A login starts a *family*. Each refresh token is opaque (32 random bytes), stored only as its
SHA-256, and exchangeable exactly once: exchanging it marks it rotated and issues its successor
in the same family. If a rotated token is ever presented again, either the legitimate client or
a thief holds a copy and we cannot tell which, so the whole family is revoked: the thief's
token and the client's current one both stop working, and the user logs in again.

Guarantees (sql.py, under row locks on the token and its family, so two concurrent exchanges
of one token are serialized and the second is seen as reuse):
- a token is exchanged at most once; a family once revoked stays revoked (a trigger);
- the revocation is committed even though the request that detected it fails (the caller
  commits the outcome before raising RefreshTokenReused).
Access tokens stay short-lived (tokens.py): revoking a family stops new ones, and the ones
already issued expire within minutes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from fintech_core.auth.principals import ClientKind, Role


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class Identity:
    subject: str
    roles: frozenset[Role]
    client: ClientKind


@dataclass(frozen=True)
class Rotated:
    identity: Identity
    refresh_token: str
    family_id: UUID


@dataclass(frozen=True)
class Refused:
    reason: str  # "unknown", "expired", "revoked", "reused"
    family_id: UUID | None = None


class RefreshStore(Protocol):
    async def start_family(self, identity: Identity, token: str, expires_at: datetime,
                           now: datetime) -> UUID: ...

    async def rotate(self, token: str, successor: str, expires_at: datetime,
                     now: datetime) -> Rotated | Refused: ...

    async def revoke(self, family_id: UUID, reason: str, now: datetime) -> None: ...


@dataclass(frozen=True)
class RefreshPolicy:
    ttl: timedelta = timedelta(hours=8)  # idle lifetime: each rotation starts it again


async def start(store: RefreshStore, identity: Identity, policy: RefreshPolicy,
                now: datetime) -> tuple[str, UUID]:
    token = new_refresh_token()
    family = await store.start_family(identity, token, now + policy.ttl, now)
    return token, family


async def exchange(store: RefreshStore, token: str, policy: RefreshPolicy,
                   now: datetime) -> Rotated | Refused:
    """Rotate `token`. The caller commits whatever this returns (a Refused("reused") has
    revoked the family, which must stick), then answers a Refused with an error."""
    return await store.rotate(token, new_refresh_token(), now + policy.ttl, now)
