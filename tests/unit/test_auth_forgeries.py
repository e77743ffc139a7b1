"""The forged-token drill's tokens, checked without a server: the naive baseline's verifier
accepts each of them (that is the baseline's bug), phase 4's TokenVerifier refuses each with
its own stable reason, and both accept a genuine token. If a forgery stopped fooling the naive
verifier, the drill's naive side would "hold" for the wrong reason; this test says so first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fintech_core.auth.errors import TokenInvalid
from fintech_core.auth.keys import KeyRing
from fintech_core.auth.principals import ClientKind, Role
from fintech_core.auth.tokens import TokenIssuer, TokenPolicy, TokenVerifier
from fintech_core.drills.scenarios.auth_common import (
    claims_for,
    forge_alg_none,
    forge_hs256_with_public_key,
    sign_es256,
)
from fintech_core.naive.auth import NaiveTokenError, naive_verify

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = TokenPolicy("https://issuer.test", "api.test")


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.started(T0, POLICY.access_ttl, POLICY.leeway, timedelta(minutes=5))


def forgeries(ring: KeyRing) -> dict[str, tuple[str, str]]:
    """name -> (token, the reason phase 4 gives)."""
    key = ring.signer(T0)
    jwk = ring.jwks(T0)["keys"][0]
    fresh = claims_for("alice", POLICY.issuer, POLICY.audience, T0)
    return {
        "alg none": (forge_alg_none(fresh), "algorithm-not-allowed"),
        "hs256 public key": (forge_hs256_with_public_key(fresh, jwk), "algorithm-not-allowed"),
        "expired": (sign_es256(claims_for("alice", POLICY.issuer, POLICY.audience,
                                          T0 - timedelta(hours=1)), key.private_key, key.kid),
                    "expired"),
        "wrong aud": (sign_es256(claims_for("alice", POLICY.issuer, "https://elsewhere.test", T0),
                                 key.private_key, key.kid), "wrong-audience"),
    }


@pytest.mark.parametrize("name", ["alg none", "hs256 public key", "expired", "wrong aud"])
def test_naive_verifier_accepts_the_forgery(ring: KeyRing, name: str) -> None:
    token, _ = forgeries(ring)[name]
    assert naive_verify(token, ring.signer(T0).public_key)["sub"] == "alice"


@pytest.mark.parametrize("name", ["alg none", "hs256 public key", "expired", "wrong aud"])
def test_phase_verifier_refuses_the_forgery_with_its_reason(ring: KeyRing, name: str) -> None:
    token, reason = forgeries(ring)[name]
    with pytest.raises(TokenInvalid) as refused:
        TokenVerifier(POLICY, ring, clock=lambda: T0).verify(token)
    assert refused.value.reason == reason


def test_both_accept_a_genuine_token_and_the_naive_one_still_checks_a_signature(
        ring: KeyRing) -> None:
    token = TokenIssuer(POLICY, ring, clock=lambda: T0).issue(
        "bob", frozenset({Role.CUSTOMER}), ClientKind.USER)
    assert TokenVerifier(POLICY, ring, clock=lambda: T0).verify(token).subject == "bob"
    assert naive_verify(token, ring.signer(T0).public_key)["sub"] == "bob"
    head, body, sig = token.split(".")
    tampered = f"{head}.{body}.{sig[:-4]}{'AAAA' if not sig.endswith('AAAA') else 'BBBB'}"
    with pytest.raises(NaiveTokenError):
        naive_verify(tampered, ring.signer(T0).public_key)
    hs_other_key = forge_hs256_with_public_key(
        claims_for("alice", POLICY.issuer, POLICY.audience, T0),
        KeyRing.started(T0, POLICY.access_ttl, POLICY.leeway, timedelta(0)).jwks(T0)["keys"][0])
    with pytest.raises(NaiveTokenError):  # HMAC keyed with somebody else's public key
        naive_verify(hs_other_key, ring.signer(T0).public_key)
