"""The auth slice's domain errors; problems.py gives each code its HTTP meaning."""

from __future__ import annotations

from fintech_core.domain.errors import DomainError

REALM = "fintech-core-lab"


class Unauthenticated(DomainError):
    """No credentials, or credentials we cannot trust. Always 401, never a hint of which part of
    a token was wrong beyond a stable `reason` (the drills and tests match on it).

    Answered with `WWW-Authenticate: Bearer realm=...` (RFC 6750 §3: without an error code when
    the request had no credentials at all, `error="invalid_token"` when a token was refused)."""

    code = "unauthenticated"

    @property
    def response_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": f'Bearer realm="{REALM}"'}


class TokenInvalid(Unauthenticated):
    code = "token-invalid"

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(detail or f"the access token was refused: {reason}", reason=reason)
        self.reason = reason

    @property
    def response_headers(self) -> dict[str, str]:
        # `reason` is one of our fixed codes (never token content), so it is safe in a quoted
        # string (RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E).
        return {"WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token", '
                                    f'error_description="{self.reason}"'}


class Forbidden(DomainError):
    """Authenticated, but the role lacks the route's permission (BFLA). Objects the caller does
    not own are never Forbidden: they are NotFound (deps.owned_or_404)."""

    code = "forbidden"

    @property
    def response_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope"'}


class InvalidGrant(DomainError):
    """RFC 6749 §5.2 invalid_grant: a wrong password, an unknown or expired refresh token."""

    code = "invalid-grant"


class RefreshTokenReused(InvalidGrant):
    """A refresh token that was already rotated came back: its family is revoked."""

    code = "refresh-token-reused"


class InvalidClient(DomainError):
    code = "invalid-client"


class UnsupportedGrant(DomainError):
    code = "unsupported-grant-type"


class LoginThrottled(DomainError):
    """Too many failed logins from this address for this account (or from this address)."""

    code = "login-throttled"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after
