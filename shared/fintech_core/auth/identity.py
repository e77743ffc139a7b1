"""Who is calling: the Identity port every route's `require(...)` asks.

The core ships one adapter, `SelfDeclared`: through phase 3 the caller names itself in
`X-Client-Id` (or is "anonymous"), Idempotency-Keys are scoped to that name, and nothing is
refused, because nothing is checked. That is the hole phase 4 closes: its manifest declares an
identity that verifies a token (auth/jwt_identity.py), and the same routes start refusing.
A phase declares its identity (`Phase.identity`, the last one wins); the core never asks which
phase is running.
"""

from __future__ import annotations

from typing import Protocol

from starlette.requests import Request

from fintech_core.auth.principals import Principal

CLIENT_ID_HEADER = "x-client-id"
CLIENT_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
ANONYMOUS = "anonymous"


class Identity(Protocol):
    # Whether the X-Client-Id header means anything (documented in the OpenAPI only then).
    self_declared: bool

    async def authenticate(self, request: Request) -> Principal:
        """The verified caller, or raise a DomainError (401) saying why not."""
        ...


class SelfDeclared:
    """Phases 0..3: the caller is whoever `X-Client-Id` says, and may do everything. The header
    was validated against CLIENT_ID_PATTERN by the route's dependency (auth/deps.py) already."""

    self_declared = True

    async def authenticate(self, request: Request) -> Principal:
        return Principal.unrestricted(request.headers.get(CLIENT_ID_HEADER) or ANONYMOUS)
