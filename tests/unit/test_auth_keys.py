"""Key rotation without downtime: at every instant, every token that is still valid names a kid
the JWKS publishes, and a new key is published before it signs anything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fintech_core.auth.keys import KeyRing
from fintech_core.auth.principals import ClientKind, Role
from fintech_core.auth.tokens import TokenIssuer, TokenPolicy, TokenVerifier

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TTL, LEEWAY, LEAD = timedelta(minutes=5), timedelta(seconds=30), timedelta(minutes=2)
POLICY = TokenPolicy("https://issuer.test", "api.test", access_ttl=TTL, leeway=LEEWAY)


def test_a_new_key_is_published_before_it_signs_and_the_old_one_outlives_its_tokens() -> None:
    ring = KeyRing.started(T0, TTL, LEEWAY, LEAD)
    old = ring.signer(T0)
    new = ring.rotate(T0 + timedelta(minutes=1))
    published = {k["kid"] for k in ring.jwks(T0 + timedelta(minutes=1))["keys"]}
    assert published == {old.kid, new.kid}
    assert ring.signer(T0 + timedelta(minutes=1)).kid == old.kid  # not signing yet
    switch = T0 + timedelta(minutes=1) + LEAD
    assert ring.signer(switch).kid == new.kid
    last_old_token_dies = switch + TTL + LEEWAY
    assert ring.verification_key(old.kid, last_old_token_dies - timedelta(seconds=1)) is not None
    assert ring.verification_key(old.kid, last_old_token_dies) is None
    assert ring.prune(last_old_token_dies) == [old.kid]
    assert [k["kid"] for k in ring.jwks(last_old_token_dies)["keys"]] == [new.kid]


def test_tokens_keep_verifying_through_two_rotations() -> None:
    """Walk the clock in 10 s steps through two rotations, issuing a token at every step and
    verifying every token issued so far that is still within its lifetime."""
    now = T0
    ring = KeyRing.started(T0, TTL, LEEWAY, LEAD)
    issuer = TokenIssuer(POLICY, ring, lambda: now)
    verifier = TokenVerifier(POLICY, ring, lambda: now)
    live: list[tuple[datetime, str]] = []
    kids = set()
    for step in range(120):  # 20 minutes
        now = T0 + timedelta(seconds=10 * step)
        if step in (30, 60):
            ring.rotate(now)
        ring.prune(now)
        token = issuer.issue("alice", frozenset({Role.CUSTOMER}), ClientKind.USER)
        kids.add(ring.signer(now).kid)
        live = [(at, t) for at, t in live if now < at + TTL] + [(now, token)]
        for _, t in live:
            assert verifier.verify(t).subject == "alice"
    assert len(kids) == 3  # both rotations really switched the signer


def test_jwks_has_public_halves_only() -> None:
    ring = KeyRing.started(T0, TTL, LEEWAY, LEAD)
    (jwk,) = ring.jwks(T0)["keys"]
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-256" and jwk["alg"] == "ES256"
    assert jwk["use"] == "sig" and "d" not in jwk
