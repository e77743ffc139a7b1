"""Phase 4's Identity: the caller is whoever a verified bearer token says (RFC 6750).

`JwtIdentity.authenticate(request)` guarantees, for the Principal it returns:
- the request carried `Authorization: Bearer <token>` (RFC 6750 §2.1; the scheme is
  case-insensitive, the token is not);
- the token verified under the lab's own issuer (AuthRuntime's TokenVerifier: ES256 pinned,
  at+jwt, our iss/aud, times, key ring; tokens.py lists it all) or, when an external OpenID
  Connect provider is configured (FINCORE_OIDC_ISSUER, _AUDIENCE, _JWKS_URL), under that
  provider's JWKS (tokens.OidcVerifier). Which verifier runs is picked by the token's `iss`, read
  *before* the signature is checked: that claim only chooses who checks the token, and each
  verifier then requires its own issuer, so a forged `iss` gains nothing but a refusal.
Anything else raises `Unauthenticated` (no credentials) or `TokenInvalid` (with a stable reason),
which answer 401 with `WWW-Authenticate: Bearer ...` (auth/errors.py, RFC 6750 §3).

A request authenticated once (by the rate limiter, limits/middleware.py, then by the route's
`require`) is verified once: the Principal is kept in the request's state, together with the
very token it came from, and reused only for that token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio.to_thread
import jwt
from starlette.requests import HTTPConnection

from fintech_core.auth.errors import TokenInvalid, Unauthenticated
from fintech_core.auth.principals import Principal
from fintech_core.auth.runtime import AuthRuntime, auth_runtime
from fintech_core.auth.tokens import OidcProvider, OidcVerifier
from fintech_core.settings import Settings

if TYPE_CHECKING:
    from fintech_core.container import Container

_STATE_KEY = "fincore_jwt_principal"  # request.state attribute: (token, Principal)


def bearer_token(headers: Any) -> str:
    """The token of `Authorization: Bearer <token>`, or Unauthenticated (RFC 6750 §2.1)."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("send Authorization: Bearer <access token>")
    return token


def unverified_issuer(token: str) -> str | None:
    """The `iss` claim, read without checking anything: only to choose the verifier."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise TokenInvalid("malformed") from exc
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else None


def oidc_provider(settings: Settings) -> OidcProvider | None:
    """The external provider the settings configure, or None. All three settings or none."""
    values = (settings.oidc_issuer, settings.oidc_audience, settings.oidc_jwks_url)
    if not any(values):
        return None
    if not all(values):
        raise ValueError("an external OIDC provider needs FINCORE_OIDC_ISSUER, "
                         "FINCORE_OIDC_AUDIENCE and FINCORE_OIDC_JWKS_URL together")
    issuer, audience, jwks_url = values
    return OidcProvider(issuer=issuer, audience=audience, jwks_url=jwks_url)  # type: ignore[arg-type]


class JwtIdentity:
    self_declared = False  # X-Client-Id means nothing here: the OpenAPI drops it

    def __init__(self, oidc: OidcVerifier | None = None) -> None:
        self.oidc = oidc

    async def authenticate(self, request: HTTPConnection) -> Principal:
        token = bearer_token(request.headers)
        cached = getattr(request.state, _STATE_KEY, None)
        if cached is not None and cached[0] == token:
            return cached[1]  # type: ignore[no-any-return]
        principal = await self.verify(token, request)
        setattr(request.state, _STATE_KEY, (token, principal))
        return principal

    async def verify(self, token: str, request: HTTPConnection) -> Principal:
        if self.oidc is not None and unverified_issuer(token) == self.oidc.provider.issuer:
            # PyJWKClient fetches the JWKS with blocking I/O on a cache miss: not on the loop.
            return await anyio.to_thread.run_sync(self.oidc.verify, token)
        runtime: AuthRuntime = await auth_runtime(request)  # type: ignore[arg-type]
        return runtime.verifier.verify(token)


def jwt_identity(container: Container) -> JwtIdentity:
    """The factory a phase declares (`Phase.identity`): the lab's issuer, plus the external OIDC
    provider if the settings name one (checked here, at start-up, not at the first request)."""
    provider = oidc_provider(container.settings)
    return JwtIdentity(OidcVerifier(provider) if provider else None)
