"""The auth slice's problems (phase 4), RFC 9457 with stable codes.

401s say *that* a token was refused and a stable `reason` (drills match on it), never which key
or claim value would have worked. An object of another owner is `not-found`-family 404, never a
403 (deps.owned_or_404)."""

from __future__ import annotations

from fintech_core.api.problems import ProblemType

PROBLEMS: dict[str, ProblemType] = {
    "unauthenticated": ProblemType(401, "Authentication required",
        "Send `Authorization: Bearer <access token>`; get one from POST /auth/token."),
    "token-invalid": ProblemType(401, "The access token was refused",
        "`reason` says why: malformed, algorithm-not-allowed (only ES256; `none` and HS256 are "
        "refused), wrong-type (not an at+jwt), unknown-kid, bad-signature, expired, "
        "not-yet-valid, wrong-issuer, wrong-audience, missing-claim, lifetime-too-long, "
        "jwks-unreachable (an external provider's keys could not be fetched). Get a new token "
        "from POST /auth/token."),
    "forbidden": ProblemType(403, "Not allowed for your role",
        "Your token is valid but none of its roles grants this operation's permission."),
    "invalid-grant": ProblemType(400, "The grant was refused",
        "Wrong username or password, or a refresh token that is unknown, expired or revoked "
        "(RFC 6749 §5.2 invalid_grant). Nothing says which."),
    "refresh-token-reused": ProblemType(400, "Refresh token reused: session revoked",
        "This refresh token was already exchanged once. Someone holds a copy, so every token of "
        "this login is revoked; log in again."),
    "invalid-client": ProblemType(401, "Unknown client or wrong secret",
        "client_credentials needs a registered service client and its secret."),
    "unsupported-grant-type": ProblemType(400, "Unsupported grant type",
        "grant_type is one of password, client_credentials, refresh_token."),
    "login-throttled": ProblemType(429, "Too many failed logins",
        "Failed logins for this account from your address (or from your address overall) are "
        "slowed down exponentially, up to a cap. `Retry-After` says when to try again. Other "
        "addresses are not affected: nobody can lock you out from elsewhere."),
}
