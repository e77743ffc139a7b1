"""Access tokens per RFC 8725: every way a token can be wrong is refused, with its own reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from fintech_core.auth.errors import TokenInvalid
from fintech_core.auth.keys import KeyRing, SigningKey
from fintech_core.auth.principals import ClientKind, Role
from fintech_core.auth.tokens import (
    OidcProvider,
    OidcVerifier,
    TokenIssuer,
    TokenPolicy,
    TokenVerifier,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = TokenPolicy("https://issuer.test", "api.test", access_ttl=timedelta(minutes=5),
                     leeway=timedelta(seconds=30))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.started(T0, POLICY.access_ttl, POLICY.leeway, timedelta(minutes=5))


@pytest.fixture
def verifier(ring: KeyRing, clock: Clock) -> TokenVerifier:
    return TokenVerifier(POLICY, ring, clock)


def claims(**override: Any) -> dict[str, Any]:
    base = {"iss": POLICY.issuer, "aud": POLICY.audience, "sub": "alice", "iat": T0, "nbf": T0,
            "exp": T0 + POLICY.access_ttl, "jti": "j1", "roles": ["customer"], "client": "user"}
    base.update(override)
    return {k: v for k, v in base.items() if v is not None}


def signed(key: SigningKey, body: dict[str, Any], **header: Any) -> str:
    headers = {"kid": key.kid, "typ": "at+jwt", **header}
    return jwt.encode(body, key.private_key, algorithm="ES256", headers=headers)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hand_made(header: dict[str, Any], body: dict[str, Any], signature: bytes = b"") -> tuple[str, str]:
    payload = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in body.items()}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    return signing_input, b64(signature)


def refused(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(TokenInvalid) as caught:
        verifier.verify(token)
    return caught.value.reason


def test_a_token_the_issuer_made_verifies(ring: KeyRing, clock: Clock,
                                          verifier: TokenVerifier) -> None:
    token = TokenIssuer(POLICY, ring, clock).issue("alice", frozenset({Role.CUSTOMER}),
                                                   ClientKind.USER)
    principal = verifier.verify(token)
    assert (principal.subject, principal.roles, principal.client) == (
        "alice", frozenset({Role.CUSTOMER}), ClientKind.USER)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["typ"] == "at+jwt"
    assert header["kid"] == ring.signer(T0).kid


def test_alg_none_is_refused(ring: KeyRing, verifier: TokenVerifier) -> None:
    signing_input, _ = hand_made({"alg": "none", "typ": "at+jwt", "kid": ring.signer(T0).kid},
                                 claims())
    assert refused(verifier, signing_input + ".") == "algorithm-not-allowed"


def test_hs256_signed_with_our_public_key_is_refused(ring: KeyRing,
                                                     verifier: TokenVerifier) -> None:
    """Alg confusion: a verifier that took the algorithm from the token would HMAC-check it with
    the public key's PEM (which anyone can fetch from the JWKS) and accept the forgery."""
    key = ring.signer(T0)
    public_pem = key.public_key.public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input, _ = hand_made({"alg": "HS256", "typ": "at+jwt", "kid": key.kid},
                                 claims(roles=["admin"]))
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert refused(verifier, f"{signing_input}.{b64(mac)}") == "algorithm-not-allowed"


def test_the_wrong_type_is_refused(ring: KeyRing, verifier: TokenVerifier) -> None:
    key = ring.signer(T0)
    assert refused(verifier, signed(key, claims(), typ="JWT")) == "wrong-type"
    no_typ = jwt.encode(claims(), key.private_key, algorithm="ES256", headers={"kid": key.kid})
    assert refused(verifier, no_typ) == "wrong-type"


def test_a_kid_outside_the_ring_is_refused(ring: KeyRing, verifier: TokenVerifier) -> None:
    stranger = SigningKey.generate(T0)
    assert refused(verifier, signed(stranger, claims())) == "unknown-kid"
    key = ring.signer(T0)
    no_kid = jwt.encode(claims(), key.private_key, algorithm="ES256", headers={"typ": "at+jwt"})
    assert refused(verifier, no_kid) == "unknown-kid"


def test_a_foreign_signature_under_our_kid_is_refused(ring: KeyRing,
                                                      verifier: TokenVerifier) -> None:
    stranger = SigningKey.generate(T0)
    forged = jwt.encode(claims(roles=["admin"]), stranger.private_key, algorithm="ES256",
                        headers={"kid": ring.signer(T0).kid, "typ": "at+jwt"})
    assert refused(verifier, forged) == "bad-signature"


def test_a_tampered_payload_is_refused(ring: KeyRing, verifier: TokenVerifier) -> None:
    header, _, signature = signed(ring.signer(T0), claims()).split(".")
    _, payload = hand_made({}, claims(roles=["admin"]))[0].split(".")
    assert refused(verifier, f"{header}.{payload}.{signature}") == "bad-signature"


def test_expiry_is_checked_with_bounded_skew(ring: KeyRing, clock: Clock,
                                             verifier: TokenVerifier) -> None:
    token = signed(ring.signer(T0), claims())
    clock.now = T0 + POLICY.access_ttl + timedelta(seconds=29)
    assert verifier.verify(token).subject == "alice"  # within the 30 s leeway
    clock.now = T0 + POLICY.access_ttl + timedelta(seconds=31)
    assert refused(verifier, token) == "expired"


def test_a_token_not_valid_yet_is_refused(ring: KeyRing, verifier: TokenVerifier) -> None:
    key = ring.signer(T0)
    assert refused(verifier, signed(key, claims(nbf=T0 + timedelta(minutes=2)))) == "not-yet-valid"
    future = T0 + timedelta(minutes=2)
    issued_later = claims(iat=future, nbf=T0, exp=future + timedelta(minutes=1))
    assert refused(verifier, signed(key, issued_later)) == "not-yet-valid"


def test_issuer_and_audience_must_be_ours(ring: KeyRing, verifier: TokenVerifier) -> None:
    key = ring.signer(T0)
    assert refused(verifier, signed(key, claims(iss="https://evil.test"))) == "wrong-issuer"
    assert refused(verifier, signed(key, claims(aud="other-api"))) == "wrong-audience"
    # strict: a token minted for several audiences is not one for us alone
    assert refused(verifier, signed(key, claims(aud=["api.test", "other"]))) == "wrong-audience"


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat", "iss", "aud", "sub", "jti"])
def test_every_required_claim_must_be_present(claim: str, ring: KeyRing,
                                              verifier: TokenVerifier) -> None:
    assert refused(verifier, signed(ring.signer(T0), claims(**{claim: None}))) == "missing-claim"


def test_a_lifetime_longer_than_the_policy_is_refused(ring: KeyRing,
                                                      verifier: TokenVerifier) -> None:
    long = claims(exp=T0 + timedelta(days=30))
    assert refused(verifier, signed(ring.signer(T0), long)) == "lifetime-too-long"


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "bm90LWpzb24.e30.", "\x00.\x00.\x00"])
def test_garbage_is_malformed(garbage: str, verifier: TokenVerifier) -> None:
    assert refused(verifier, garbage) == "malformed"


def test_the_leeway_is_bounded() -> None:
    with pytest.raises(ValueError, match="leeway"):
        TokenPolicy("i", "a", leeway=timedelta(minutes=5))
    with pytest.raises(ValueError, match="asymmetric"):
        OidcProvider("i", "a", "http://x/jwks", algorithms=("HS256",))


# --- an external OIDC provider's tokens, through its JWKS URL -----------------------------------

EXTERNAL = SigningKey.generate(T0)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    body = json.dumps({"keys": [EXTERNAL.public_jwk()]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json"
    server.shutdown()


def test_an_external_token_is_verified_through_the_providers_jwks(jwks_url: str) -> None:
    now = datetime.now(UTC)
    provider = OidcProvider("https://idp.test", "api.test", jwks_url)
    oidc = OidcVerifier(provider)
    body = {"iss": "https://idp.test", "aud": "api.test", "sub": "u-42", "iat": now, "nbf": now,
            "exp": now + timedelta(minutes=5), "jti": "x"}
    token = jwt.encode(body, EXTERNAL.private_key, algorithm="ES256",
                       headers={"kid": EXTERNAL.kid})
    principal = oidc.verify(token)
    assert principal.subject == "https://idp.test|u-42" and principal.roles == {Role.CUSTOMER}
    assert principal.client is ClientKind.EXTERNAL
    wrong_aud = jwt.encode({**body, "aud": "other"}, EXTERNAL.private_key, algorithm="ES256",
                           headers={"kid": EXTERNAL.kid})
    with pytest.raises(TokenInvalid, match="wrong-audience"):
        oidc.verify(wrong_aud)
    signing_input, _ = hand_made({"alg": "HS256", "kid": EXTERNAL.kid}, body)
    with pytest.raises(TokenInvalid, match="algorithm-not-allowed"):
        oidc.verify(f"{signing_input}.{b64(b'x' * 32)}")
    stranger = SigningKey.generate(T0)
    unknown = jwt.encode(body, stranger.private_key, algorithm="ES256",
                         headers={"kid": stranger.kid})
    with pytest.raises(TokenInvalid, match="unknown-kid"):
        oidc.verify(unknown)


def jwks_server(keys: list[SigningKey]) -> tuple[ThreadingHTTPServer, str]:
    body = json.dumps({"keys": [k.public_jwk() for k in keys]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/jwks.json"


def test_an_external_id_token_without_kid_nbf_jti_and_with_an_aud_list() -> None:
    """What an OpenID provider's ID token looks like (oidc-provider-mock's, among others):
    accepted against a single published key; with two keys a kid-less token is refused."""
    now = datetime.now(UTC)
    body = {"iss": "https://idp.test", "aud": ["api.test", "other"], "sub": "u-7", "iat": now,
            "exp": now + timedelta(minutes=5)}
    token = jwt.encode(body, EXTERNAL.private_key, algorithm="ES256")
    one, one_url = jwks_server([EXTERNAL])
    two, two_url = jwks_server([EXTERNAL, SigningKey.generate(T0)])
    try:
        principal = OidcVerifier(OidcProvider("https://idp.test", "api.test", one_url)).verify(token)
        assert principal.subject == "https://idp.test|u-7"
        with pytest.raises(TokenInvalid, match="unknown-kid"):
            OidcVerifier(OidcProvider("https://idp.test", "api.test", two_url)).verify(token)
        no_exp = jwt.encode({k: v for k, v in body.items() if k != "exp"}, EXTERNAL.private_key,
                            algorithm="ES256")
        with pytest.raises(TokenInvalid, match="missing-claim"):
            OidcVerifier(OidcProvider("https://idp.test", "api.test", one_url)).verify(no_exp)
    finally:
        one.shutdown()
        two.shutdown()
