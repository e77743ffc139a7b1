"""Access tokens: issued by the lab's own issuer, verified per RFC 8725 (JWT Best Current
Practices); external OIDC tokens verified through the provider's JWKS.

What `TokenVerifier.verify` guarantees about a token it accepts:
- its header names exactly ES256 (§3.1: the algorithm is pinned by us, never taken from the
  token: `none`, HS256 keyed with our public key (alg confusion) and RS256 are refused before any
  signature check), its `typ` is `at+jwt` (§3.11, RFC 9068: an ID token or another JWT of ours is
  not an access token), and its `kid` is a key our ring publishes now (keys.py);
- the signature verifies under that key;
- `iss` and `aud` are ours (§3.8, §3.9); `exp`, `nbf`, `iat`, `sub`, `jti` are present; it is not
  expired, not used before `nbf`, not issued in the future, each with at most `leeway` of clock
  skew, which the policy caps at MAX_LEEWAY; and `exp - iat` is at most the policy's TTL.
Any other token raises TokenInvalid with a stable `reason`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from fintech_core.auth.errors import TokenInvalid
from fintech_core.auth.keys import ALGORITHM, KeyRing
from fintech_core.auth.principals import ClientKind, Principal, Role, parse_roles

ACCESS_TOKEN_TYPE = "at+jwt"
MAX_LEEWAY = timedelta(seconds=60)
REQUIRED_CLAIMS = ["exp", "nbf", "iat", "iss", "aud", "sub", "jti"]
# What an external provider's token must carry: OpenID Connect Core §2 (an ID token has no nbf
# and no jti; RFC 9068 access tokens have them too, and they are checked when present).
EXTERNAL_REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub")

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TokenPolicy:
    issuer: str
    audience: str
    access_ttl: timedelta = timedelta(minutes=5)  # short: revocation is by expiry
    leeway: timedelta = timedelta(seconds=30)

    def __post_init__(self) -> None:
        if not timedelta(0) <= self.leeway <= MAX_LEEWAY:
            raise ValueError(f"clock-skew leeway must be within 0..{MAX_LEEWAY}")
        if self.access_ttl <= timedelta(0):
            raise ValueError("access tokens must expire")


class TokenIssuer:
    def __init__(self, policy: TokenPolicy, ring: KeyRing, clock: Clock = utcnow) -> None:
        self.policy, self.ring, self.clock = policy, ring, clock

    def issue(self, subject: str, roles: frozenset[Role], client: ClientKind) -> str:
        now = self.clock()
        key = self.ring.signer(now)
        claims = {"iss": self.policy.issuer, "aud": self.policy.audience, "sub": subject,
                  "iat": now, "nbf": now, "exp": now + self.policy.access_ttl,
                  "jti": secrets.token_urlsafe(16), "roles": sorted(roles), "client": client}
        return jwt.encode(claims, key.private_key, algorithm=ALGORITHM,
                          headers={"kid": key.kid, "typ": ACCESS_TOKEN_TYPE})


def _header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenInvalid("malformed") from exc


# PyJWT's exceptions -> our stable reasons; the most specific class first.
_REASONS: Sequence[tuple[type[Exception], str]] = (
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not-yet-valid"),
    (jwt.InvalidAudienceError, "wrong-audience"),
    (jwt.InvalidIssuerError, "wrong-issuer"),
    (jwt.MissingRequiredClaimError, "missing-claim"),
    (jwt.InvalidAlgorithmError, "algorithm-not-allowed"),
    (jwt.InvalidSignatureError, "bad-signature"),
    (jwt.PyJWTError, "malformed"),
)


def _decode(token: str, key: Any, algorithms: list[str], issuer: str, audience: str,
            leeway: timedelta, now: datetime, required: Sequence[str] = REQUIRED_CLAIMS,
            strict_aud: bool = True) -> dict[str, Any]:
    # PyJWT checks the signature, presence, iss and aud; the times are checked below against
    # our injected clock (PyJWT reads the system clock, which a test cannot move). strict_aud:
    # `aud` is one string, ours; an external provider may send a list (RFC 7519 §4.1.3) that
    # must contain our audience.
    options: dict[str, Any] = {"require": list(required), "strict_aud": strict_aud,
                               "verify_exp": False, "verify_nbf": False, "verify_iat": False}
    try:
        claims: dict[str, Any] = jwt.decode(token, key, algorithms=algorithms, issuer=issuer,
                                            audience=audience, options=options)  # type: ignore[arg-type]
    except jwt.PyJWTError as exc:
        reason = next(r for kind, r in _REASONS if isinstance(exc, kind))
        raise TokenInvalid(reason) from exc
    _check_times(claims, now.timestamp(), leeway.total_seconds())
    return claims


def _check_times(claims: dict[str, Any], now: float, leeway: float) -> None:
    """RFC 7519 §4.1.4-6 with a bounded skew: expired at exp (+ leeway), valid from nbf and
    not issued in the future (each - leeway)."""
    # nbf is optional in an external token (required in ours: REQUIRED_CLAIMS); absent, a
    # token is valid from iat. exp and iat are required either way.
    times = [claims.get("exp"), claims.get("nbf", claims.get("iat")), claims.get("iat")]
    numbers = [float(t) for t in times if isinstance(t, int | float) and not isinstance(t, bool)]
    if len(numbers) != 3:
        raise TokenInvalid("malformed")
    exp, nbf, iat = numbers
    if exp <= now - leeway:
        raise TokenInvalid("expired")
    if nbf > now + leeway or iat > now + leeway:
        raise TokenInvalid("not-yet-valid")


class TokenVerifier:
    """Verifies the lab issuer's access tokens against its key ring."""

    def __init__(self, policy: TokenPolicy, ring: KeyRing, clock: Clock = utcnow) -> None:
        self.policy, self.ring, self.clock = policy, ring, clock

    def verify(self, token: str) -> Principal:
        header = _header(token)
        if header.get("alg") != ALGORITHM:
            raise TokenInvalid("algorithm-not-allowed")
        if header.get("typ") != ACCESS_TOKEN_TYPE:
            raise TokenInvalid("wrong-type")
        kid = header.get("kid")
        key = self.ring.verification_key(kid, self.clock()) if isinstance(kid, str) else None
        if key is None:
            raise TokenInvalid("unknown-kid")
        p = self.policy
        claims = _decode(token, key, [ALGORITHM], p.issuer, p.audience, p.leeway, self.clock())
        if claims["exp"] - claims["iat"] > p.access_ttl.total_seconds():
            raise TokenInvalid("lifetime-too-long")
        client = claims.get("client")
        if client not in {c.value for c in ClientKind} or not isinstance(claims["sub"], str):
            raise TokenInvalid("malformed")
        return Principal(claims["sub"], parse_roles(claims.get("roles")), ClientKind(client))


@dataclass(frozen=True)
class OidcProvider:
    """An external OpenID Connect provider we accept access tokens from."""

    issuer: str
    audience: str
    jwks_url: str
    algorithms: tuple[str, ...] = ("RS256", "ES256")  # asymmetric only: never HS*, never none
    roles: frozenset[Role] = frozenset({Role.CUSTOMER})  # what its users may do here
    leeway: timedelta = timedelta(seconds=30)
    required_claims: tuple[str, ...] = EXTERNAL_REQUIRED_CLAIMS

    def __post_init__(self) -> None:
        if any(a.upper().startswith("HS") or a.lower() == "none" for a in self.algorithms):
            raise ValueError("external tokens are verified with asymmetric algorithms only")
        if not timedelta(0) <= self.leeway <= MAX_LEEWAY:
            raise ValueError(f"clock-skew leeway must be within 0..{MAX_LEEWAY}")


class OidcVerifier:
    """Verifies an external provider's tokens with keys fetched from its JWKS URL (cached by
    PyJWKClient; an unknown `kid` refetches once, so the provider's rotations are followed).

    A token without a `kid` (RFC 7515 makes it optional; some providers omit it) is verified
    only when the provider publishes exactly one signing key: with several, which one signed
    is unknown and the token is refused as `unknown-kid` rather than tried against each."""

    def __init__(self, provider: OidcProvider, timeout_s: float = 5.0) -> None:
        self.provider = provider
        self.jwks = jwt.PyJWKClient(provider.jwks_url, cache_keys=True, lifespan=300,
                                    timeout=int(timeout_s))

    def verify(self, token: str) -> Principal:
        p = self.provider
        alg = _header(token).get("alg")
        if alg not in p.algorithms:
            raise TokenInvalid("algorithm-not-allowed")
        kid = _header(token).get("kid")
        try:
            if isinstance(kid, str):
                signing_key = self.jwks.get_signing_key(kid)
            else:
                keys = self.jwks.get_signing_keys()
                if len(keys) != 1:
                    raise TokenInvalid("unknown-kid")
                signing_key = keys[0]
        except jwt.PyJWKClientConnectionError as exc:
            raise TokenInvalid("jwks-unreachable") from exc
        except jwt.PyJWTError as exc:
            raise TokenInvalid("unknown-kid") from exc
        # A JWK that states its own algorithm binds the key to it (RFC 7517 §4.4).
        if signing_key.algorithm_name and signing_key.algorithm_name != alg:
            raise TokenInvalid("algorithm-not-allowed")
        claims = _decode(token, signing_key.key, [alg], p.issuer, p.audience, p.leeway,
                         utcnow(), required=p.required_claims, strict_aud=False)
        return Principal(f"{p.issuer}|{claims['sub']}", p.roles, ClientKind.EXTERNAL)
