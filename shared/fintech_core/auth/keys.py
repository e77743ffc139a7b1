"""ES256 signing keys with a `kid`, and a key ring that rotates them without downtime.

Why asymmetric: the API (and anyone else) verifies with the public half published as JWKS; only
the issuer holds the private half, so a verifier can never mint a token.

Rotation without downtime, as a function of time only (no state machine to get stuck in):
1. `rotate(now)` adds a key that is *published* at once but *signs* only from
   `now + publish_lead`: verifiers that cache the JWKS (for up to publish_lead) learn the new
   `kid` before the first token signed with it reaches them.
2. From then on the new key signs. The previous key stops signing but stays published for
   `token_ttl + leeway` more, the longest any token it signed can still be valid.
3. `prune(now)` then drops it. So at any instant every valid token's `kid` is in the JWKS, and
   during a rotation two keys (three, briefly, if rotated faster than token_ttl) are live.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ALGORITHM = "ES256"  # the only algorithm our own tokens are ever verified with (RFC 8725 §3.1)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    signs_from: datetime

    @classmethod
    def generate(cls, signs_from: datetime) -> SigningKey:
        return cls(kid=secrets.token_urlsafe(12), private_key=ec.generate_private_key(ec.SECP256R1()),
                   signs_from=signs_from)

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = ECAlgorithm.to_jwk(self.public_key, as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}

    def private_pem(self) -> bytes:
        """For a key file the issuer keeps (mode 0600); never for the JWKS or a log."""
        return self.private_key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())

    @classmethod
    def from_pem(cls, kid: str, pem: bytes, signs_from: datetime) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("an ES256 signing key must be a P-256 EC private key")
        return cls(kid, key, signs_from)


class KeyRing:
    """The issuer's keys, oldest first. `token_ttl` is the longest access-token lifetime and
    `leeway` the clock skew verifiers accept: together, how long a retired key must stay."""

    def __init__(self, token_ttl: timedelta, leeway: timedelta, publish_lead: timedelta,
                 keys: list[SigningKey] | None = None) -> None:
        self.token_ttl, self.leeway, self.publish_lead = token_ttl, leeway, publish_lead
        self._keys: list[SigningKey] = sorted(keys or [], key=lambda k: k.signs_from)

    @classmethod
    def started(cls, now: datetime, token_ttl: timedelta, leeway: timedelta,
                publish_lead: timedelta) -> KeyRing:
        """A ring with one key that signs at once (a fresh lab: no verifier has a cache yet)."""
        return cls(token_ttl, leeway, publish_lead, [SigningKey.generate(now)])

    def rotate(self, now: datetime) -> SigningKey:
        """Publish a new key now; it signs from now + publish_lead."""
        self.prune(now)
        key = SigningKey.generate(now + self.publish_lead)
        self._keys.append(key)
        return key

    def signer(self, now: datetime) -> SigningKey:
        """The newest key allowed to sign at `now`."""
        ready = [k for k in self._keys if k.signs_from <= now]
        if not ready:
            raise LookupError("no signing key is active yet")
        return ready[-1]

    def _published_until(self, index: int) -> datetime | None:
        """When key `index` may leave the JWKS: after the last token it signed expired."""
        if index + 1 >= len(self._keys):
            return None  # the newest key: published until a successor exists
        return self._keys[index + 1].signs_from + self.token_ttl + self.leeway

    def published(self, now: datetime) -> list[SigningKey]:
        out = []
        for i, key in enumerate(self._keys):
            until = self._published_until(i)
            if until is None or now < until:
                out.append(key)
        return out

    def prune(self, now: datetime) -> list[str]:
        """Drop the keys no valid token can name any more; returns their kids."""
        keep = self.published(now)
        dropped = [k.kid for k in self._keys if k not in keep]
        self._keys = keep
        return dropped

    def verification_key(self, kid: str, now: datetime) -> ec.EllipticCurvePublicKey | None:
        for key in self.published(now):
            if key.kid == kid:
                return key.public_key
        return None

    def jwks(self, now: datetime) -> dict[str, Any]:
        """The JWKS document (RFC 7517): public halves only."""
        return {"keys": [k.public_jwk() for k in self.published(now)]}
