"""What the attacker drills share: one client for both sides (the naive baseline's /naive/auth
routes, or phase 4's /auth/token, /accounts and /transfers), the seeded users' credentials,
and the token forgeries.

Both sides are played by the same people with the same credentials: alice (the victim) and bob
(the attacker) are the lab's seeded customers, and every access token either side hands out is
a genuine ES256 token of the lab's issuer. The only difference is what the server does with it.
Verdicts come from PostgreSQL: balances (`ctx.facts()`), account rows, refresh-token rows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import psycopg
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from fintech_core.auth.runtime import AUDIENCE, ISSUER, load_or_create_ring
from fintech_core.auth.tokens import TokenPolicy, utcnow
from fintech_core.drills.drill import Ctx
from fintech_core.drills.wording import Attempt, describe_error
from fintech_core.naive.auth import public_pem

CURRENCY = "EUR"
DRIVER = "lab-driver"  # the lab's own client: customer, service and admin (phase 4's seeder)


# --- credentials ----------------------------------------------------------------------------------
def seeded_secret(lab_dir: Path, name: str) -> str:
    """The password of a seeded user (or secret of a seeded client), written once per lab by
    phase 4's seeder: `<lab_dir>/auth/seeded.json`, {"identities": {name: {"secret": ...}}}."""
    data = json.loads((lab_dir / "auth" / "seeded.json").read_text())
    return str(data["identities"][name]["secret"])


@dataclass
class Tokens:
    access: str
    refresh: str | None = None


# --- forgeries (RFC 8725 §2.1, §2.8, §3.1) --------------------------------------------------------
def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _segments(header: dict[str, Any], claims: dict[str, Any]) -> str:
    compact = {"separators": (",", ":")}
    return (f"{_b64(json.dumps(header, **compact).encode())}."  # type: ignore[arg-type]
            f"{_b64(json.dumps(claims, **compact, default=str).encode())}")  # type: ignore[arg-type]


def claims_for(subject: str, issuer: str, audience: str, now: datetime,
               ttl: timedelta = timedelta(minutes=5), **extra: Any) -> dict[str, Any]:
    iat = int(now.timestamp())
    return {"iss": issuer, "aud": audience, "sub": subject, "iat": iat, "nbf": iat,
            "exp": iat + int(ttl.total_seconds()), "jti": uuid.uuid4().hex,
            "roles": ["customer"], "client": "user", **extra}


def forge_alg_none(claims: dict[str, Any]) -> str:
    """No signature at all, and a header that says that is fine."""
    return _segments({"alg": "none", "typ": "at+jwt"}, claims) + "."


def forge_hs256_with_public_key(claims: dict[str, Any], jwk: dict[str, Any]) -> str:
    """Algorithm confusion: HMAC-SHA256 keyed with the PEM of the issuer's *public* key, which
    anyone rebuilds from the JWKS. A verifier that lets the header pick the algorithm and uses
    one key variable for all of them computes the same HMAC and accepts it."""
    key = ECAlgorithm.from_jwk(json.dumps(jwk))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    signing_input = _segments({"alg": "HS256", "typ": "at+jwt", "kid": jwk.get("kid")}, claims)
    mac = hmac.new(public_pem(key), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def sign_es256(claims: dict[str, Any], private_key: ec.EllipticCurvePrivateKey, kid: str) -> str:
    """A genuinely signed token (the expired one leaked from a log, the one meant for another
    audience): the signature is fine, the claims are not."""
    return jwt.encode(claims, private_key, algorithm="ES256", headers={"kid": kid, "typ": "at+jwt"})


def lab_signing_key(lab_dir: Path) -> tuple[ec.EllipticCurvePrivateKey, str]:
    """The lab issuer's current private key and kid, read from its key file: the drill plays
    tokens that *were* genuinely issued (and leaked), which only the issuer's key can sign."""
    now = utcnow()
    ring = load_or_create_ring(lab_dir / "auth" / "signing-keys.json",
                               TokenPolicy(ISSUER, AUDIENCE), now)
    key = ring.signer(now)
    return key.private_key, key.kid


# --- one side's client ----------------------------------------------------------------------------
class AuthSide:
    """The drill's people on one side, on the drill's timeline."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx, self.naive = ctx, ctx.target.side == "naive"
        self.lab_dir: Path = ctx.stage.lab.settings.lab_dir
        self.run = ctx.target.run_id
        self.tokens: dict[str, Tokens] = {}
        self._driver: str | None = None
        self.www_authenticate: str | None = None  # of the last answer (RFC 6750 §3)

    # --- HTTP -------------------------------------------------------------------------------------
    def call(self, method: str, path: str, who: str, body: dict[str, Any] | None = None, *,
             token: str | None = None, key: bool = False, why: str = "",
             log: bool = True) -> Attempt:
        """One request as `who` (its current access token unless `token` is given)."""
        headers = {"Authorization": f"Bearer {token or self.tokens[who].access}"}
        if key:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        return self._send(method, path, body, headers, f"{who}: {method} {path}", why, log)

    def _send(self, method: str, path: str, body: dict[str, Any] | None,
              headers: dict[str, str], what: str, why: str, log: bool) -> Attempt:
        if log:
            self.ctx.timeline.log("client", "request", " ".join(w for w in (what, why) if w))
        started = time.monotonic()
        try:
            r = httpx.request(method, f"{self.ctx.stage.url}{path}", json=body, headers=headers,
                              timeout=20)
            out = r.json() if r.content else None
            attempt = Attempt(r.status_code, None, (time.monotonic() - started) * 1000, out)
            if log:
                extra = r.headers.get("www-authenticate")
                self.ctx.timeline.log("client", "answer", f"← {attempt.summary()}"
                                      + (f"; WWW-Authenticate: {extra}" if extra else ""),
                                      status=r.status_code)
            self.www_authenticate = r.headers.get("www-authenticate")
        except httpx.TransportError as exc:
            attempt = Attempt(None, describe_error(exc), (time.monotonic() - started) * 1000)
            self.www_authenticate = None
        if log:
            self.ctx.target.attempts.append(attempt)
        return attempt

    def _ok(self, attempt: Attempt, what: str) -> Any:
        if not attempt.succeeded:
            raise RuntimeError(f"drill setup failed: {what}: {attempt.summary()} {attempt.body}")
        return attempt.body

    # --- tokens -----------------------------------------------------------------------------------
    def token_path(self) -> str:
        return "/naive/auth/token" if self.naive else "/auth/token"

    def login(self, user: str, log: bool = True) -> Tokens:
        body = {"grant_type": "password", "username": user,
                "password": seeded_secret(self.lab_dir, user)}
        a = self._send("POST", self.token_path(), body, {}, f"{user}: log in (password)", "",
                       log)
        got = self._ok(a, f"{user} logs in")
        self.tokens[user] = Tokens(got["access_token"], got.get("refresh_token"))
        return self.tokens[user]

    def refresh(self, who: str, refresh_token: str, why: str = "") -> Attempt:
        body = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self._send("POST", self.token_path(), body, {},
                          f"{who}: refresh with …{refresh_token[-6:]}", why, True)

    def driver_token(self) -> str:
        """The lab's driver client (admin + service), for setup the victim cannot do: funding."""
        if self._driver is None:
            body = {"grant_type": "client_credentials", "client_id": DRIVER,
                    "client_secret": seeded_secret(self.lab_dir, DRIVER)}
            a = self._send("POST", "/auth/token", body, {}, "lab-driver", "", False)
            self._driver = self._ok(a, "the lab driver gets a token")["access_token"]
        return self._driver

    # --- accounts and money -----------------------------------------------------------------------
    def open(self, label: str, who: str, amount: int = 0, credit_limit: int | None = None,
             why: str = "", setup: bool = True) -> Attempt:
        """`who` opens account `label` (and the lab funds it with `amount`). A setup account is
        counted in the drill's start balances; one the drill tries to open may be refused."""
        owner = f"{label}-{self.run}"
        extra = {} if credit_limit is None else {"credit_limit": credit_limit}
        if self.naive:
            a = self.call("POST", "/naive/auth/accounts", who,
                          {"owner": owner, "balance": float(amount), **extra}, why=why, log=not setup)
        else:
            a = self.call("POST", "/accounts", who, {"owner": owner, "currency": CURRENCY, **extra},
                          key=True, why=why, log=not setup)
            if a.succeeded and amount:
                self._ok(self.call("POST", f"/accounts/{a.body['id']}/deposits", DRIVER,
                                   {"amount": amount, "currency": CURRENCY},
                                   token=self.driver_token(), key=True, log=False),
                         f"funding {label}")
        if setup:
            self._ok(a, f"{who} opens {label}")
        if a.succeeded:
            self.ctx.target.accounts[label] = a.body["id"]
            self.ctx.start[label] = float(amount)
            if setup:
                self.ctx.timeline.log("drill", "note", f"{who} opened {label} ({amount:g})")
        return a

    def account_path(self, label: str) -> str:
        prefix = "/naive/auth" if self.naive else ""
        return f"{prefix}/accounts/{self.ctx.target.accounts[label]}"

    def read(self, label: str, who: str, why: str = "") -> Attempt:
        return self.call("GET", self.account_path(label), who, why=why)

    def send(self, src: str, dst: str, amount: int, who: str, *, token: str | None = None,
             why: str = "") -> Attempt:
        ids = self.ctx.target.accounts
        if self.naive:
            return self.call("POST", "/naive/auth/transfers", who,
                             {"from_id": ids[src], "to_id": ids[dst], "amount": float(amount)},
                             token=token, why=why or f"{amount:g} {src}→{dst}")
        return self.call("POST", "/transfers", who,
                         {"source_account_id": str(ids[src]), "destination_account_id": str(ids[dst]),
                          "amount": amount, "currency": CURRENCY},
                         token=token, key=True, why=why or f"{amount:g} {src}→{dst}")

    def jwks(self) -> dict[str, Any]:
        """The published keys: public, anyone may fetch them (the attacker does)."""
        r = httpx.get(f"{self.ctx.stage.url}/.well-known/jwks.json", timeout=10)
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]

    # --- facts ------------------------------------------------------------------------------------
    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.ctx.stage.database_url, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []
