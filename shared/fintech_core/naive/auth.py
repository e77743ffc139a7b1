"""THE DELIBERATELY BROKEN AUTH BASELINE ("before" of phase 4), mounted only with
FINCORE_NAIVE_BASELINE=true (phase 4 declares it in `naive_routers`).

Auth as a first version ships it, kept so the phase-4 drills can play the same attack against it
and against phase 4. It uses the lab's real key ring and issuer (tokens are genuine ES256, the
JWKS is the same), and gets every lesson of the phase wrong, on purpose:
- identity: a Bearer token checked by `naive_verify` below, else the self-declared `X-Client-Id`
  header phases 0..3 trusted, else "anonymous";
- `naive_verify` trusts the token's own header: `alg: none` passes unsigned, `HS256` is checked
  with HMAC keyed by our *public* key's PEM (which anyone can rebuild from the JWKS: algorithm
  confusion), and neither `exp` nor `aud` nor `iss` is looked at;
- no ownership check (BOLA): any caller reads any account and sends money out of it;
- mass assignment: opening an account takes the body as the row, `credit_limit` included, and
  the transfer lets a balance go down to -credit_limit;
- refresh tokens are rotated (a new one at every use) but the old one is never retired: a
  stolen refresh token keeps minting access tokens after its owner used it. They are stored in
  plain text too.
Floats for money and autocommitted statements, like the naive transfer. Do not copy any of it.

Its tables are created on first use (the baseline predates the migrations it would need):
`naive_account_terms` (holder and credit limit of a `naive_accounts` row) and
`naive_refresh_tokens` (each token, its parent and subject).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Annotated, Any, Literal

import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import APIRouter, Depends, HTTPException, Request
from jwt.algorithms import ECAlgorithm
from pydantic import BaseModel

from fintech_core.api.deps import ContainerDep
from fintech_core.auth import passwords
from fintech_core.auth.principals import ClientKind, parse_roles
from fintech_core.auth.runtime import AuthRuntime, auth_runtime
from fintech_core.auth.tokens import utcnow
from fintech_core.naive.routes import NAIVE_IS_PUBLIC

TABLES = """
CREATE TABLE IF NOT EXISTS naive_account_terms (
    account_id bigint PRIMARY KEY, holder text NOT NULL,
    credit_limit double precision NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS naive_refresh_tokens (
    token text PRIMARY KEY, parent text, subject text NOT NULL, roles text[] NOT NULL,
    issued_at timestamptz NOT NULL DEFAULT clock_timestamp())"""
_created: set[str] = set()

Runtime = Annotated[AuthRuntime, Depends(auth_runtime)]


def _db(url: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(url, autocommit=True)
    if url not in _created:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('naive_auth'))")
            for statement in TABLES.split(";"):
                conn.execute(statement)
        _created.add(url)
    return conn


# --- the verifier that trusts the token ------------------------------------------------------------
def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def public_pem(key: ec.EllipticCurvePublicKey) -> bytes:
    """Our public key as PEM: what the naive verifier keys HMAC with, and what an attacker
    rebuilds from the published JWKS (`ECAlgorithm.from_jwk`) byte for byte."""
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


class NaiveTokenError(Exception):
    pass


def naive_verify(token: str, key: ec.EllipticCurvePublicKey) -> dict[str, Any]:
    """Verify "the way the token says": the algorithm comes from its header, one key variable
    serves every algorithm, and a valid signature is all that is checked (no exp, no aud).
    Written by hand because PyJWT refuses both mistakes (it needs `algorithms=` and will not
    HMAC with a PEM key), which is the point: the library's defaults are the lesson."""
    try:
        head_b64, body_b64, sig_b64 = token.split(".")
        header, claims = json.loads(_b64decode(head_b64)), json.loads(_b64decode(body_b64))
        signature = _b64decode(sig_b64)
    except (ValueError, TypeError) as exc:
        raise NaiveTokenError("malformed token") from exc
    signed = f"{head_b64}.{body_b64}".encode()
    alg = str(header.get("alg", ""))
    if alg.lower() == "none":
        ok = True  # "unsigned tokens are for local testing"
    elif alg.startswith("HS"):
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
                  "HS512": hashlib.sha512}.get(alg, hashlib.sha256)
        ok = hmac.compare_digest(hmac.new(public_pem(key), signed, digest).digest(), signature)
    else:
        ok = ECAlgorithm(ECAlgorithm.SHA256).verify(signed, key, signature)
    if not ok or not isinstance(claims, dict) or not isinstance(claims.get("sub"), str):
        raise NaiveTokenError("bad signature")
    return claims


def _key(runtime: AuthRuntime, token: str) -> ec.EllipticCurvePublicKey:
    """The key named by the token's kid, or else our current one."""
    now = utcnow()
    try:
        kid = json.loads(_b64decode(token.split(".")[0])).get("kid")
    except (ValueError, TypeError, AttributeError):
        kid = None
    found = runtime.ring.verification_key(kid, now) if isinstance(kid, str) else None
    return found or runtime.ring.signer(now).public_key


def caller(request: Request, runtime: Runtime) -> str:
    """Who is calling: the token's `sub` as the token says, else the header, else anonymous.
    (Read from the request, not declared as parameters: the OpenAPI of phase 4 documents no
    X-Client-Id, and this baseline is no contract.)"""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        try:
            return str(naive_verify(token.strip(), _key(runtime, token.strip()))["sub"])
        except NaiveTokenError as exc:
            raise HTTPException(401, str(exc)) from exc
    return request.headers.get("x-client-id") or "anonymous"


Caller = Annotated[str, Depends(caller)]


# --- the routes ------------------------------------------------------------------------------------
class NaiveAccountIn(BaseModel):
    """One model for the admin screen and the customer app: whatever the client sends is set."""

    owner: str
    balance: float = 0.0
    credit_limit: float = 0.0


class NaiveTransferIn(BaseModel):
    from_id: int
    to_id: int
    amount: float


class NaiveTokenIn(BaseModel):
    grant_type: Literal["password", "refresh_token"]
    username: str | None = None
    password: str | None = None
    refresh_token: str | None = None


def router() -> APIRouter:
    # Public to phase 4's identity (naive/routes.py says why); `caller` is its own, broken one.
    r = APIRouter(prefix="/naive/auth", tags=["naive baseline (deliberately broken)"],
                  dependencies=[Depends(NAIVE_IS_PUBLIC)])

    @r.post("/accounts", status_code=201)
    def open_account(body: NaiveAccountIn, who: Caller, c: ContainerDep) -> dict[str, object]:
        with _db(c.database_url) as db:
            row = db.execute("INSERT INTO naive_accounts (owner, balance) VALUES (%s, %s)"
                             " RETURNING id", (body.owner, body.balance)).fetchone()
            assert row is not None
            db.execute("INSERT INTO naive_account_terms (account_id, holder, credit_limit)"
                       " VALUES (%s, %s, %s)", (row[0], who, body.credit_limit))
        return {"id": row[0], "holder": who, **body.model_dump()}

    @r.get("/accounts/{account_id}")
    def read_account(account_id: int, who: Caller, c: ContainerDep) -> dict[str, object]:
        with _db(c.database_url) as db:  # `who` is known, and never compared with the holder
            row = db.execute("SELECT a.id, a.owner, a.balance, t.holder, t.credit_limit"
                             " FROM naive_accounts a LEFT JOIN naive_account_terms t"
                             " ON t.account_id = a.id WHERE a.id = %s", (account_id,)).fetchone()
        if row is None:
            raise HTTPException(404, "no such account")
        return dict(zip(("id", "owner", "balance", "holder", "credit_limit"), row, strict=True))

    @r.post("/transfers", status_code=201)
    def transfer(body: NaiveTransferIn, who: Caller, c: ContainerDep) -> dict[str, object]:
        with _db(c.database_url) as db:
            src = db.execute("SELECT a.balance, coalesce(t.credit_limit, 0) FROM naive_accounts a"
                             " LEFT JOIN naive_account_terms t ON t.account_id = a.id"
                             " WHERE a.id = %s", (body.from_id,)).fetchone()
            if src is None or src[0] + src[1] < body.amount:
                raise HTTPException(400, "insufficient funds")
            db.execute("UPDATE naive_accounts SET balance = balance - %s WHERE id = %s",
                       (body.amount, body.from_id))
            db.execute("UPDATE naive_accounts SET balance = balance + %s WHERE id = %s",
                       (body.amount, body.to_id))
        return {"ok": True, "by": who}

    @r.post("/token")
    def token(body: NaiveTokenIn, runtime: Runtime, c: ContainerDep) -> dict[str, object]:
        with _db(c.database_url) as db:
            parent: str | None = None
            if body.grant_type == "password" and body.username and body.password:
                user = db.execute("SELECT password_hash, roles FROM auth_users"
                                  " WHERE username = %s", (body.username,)).fetchone()
                if user is None or not passwords.verify_password(body.password, user[0]):
                    raise HTTPException(400, "wrong username or password")
                subject, roles = body.username, list(user[1])
            elif body.grant_type == "refresh_token" and body.refresh_token:
                found = db.execute("SELECT subject, roles FROM naive_refresh_tokens"
                                   " WHERE token = %s", (body.refresh_token,)).fetchone()
                if found is None:
                    raise HTTPException(400, "unknown refresh token")
                (subject, roles), parent = found, body.refresh_token  # and it stays valid
            else:
                raise HTTPException(400, "unsupported grant")
            refresh = secrets.token_urlsafe(32)
            db.execute("INSERT INTO naive_refresh_tokens (token, parent, subject, roles)"
                       " VALUES (%s, %s, %s, %s)", (refresh, parent, subject, roles))
        access = runtime.issuer.issue(subject, parse_roles(roles), ClientKind.USER)
        return {"access_token": access, "token_type": "Bearer", "refresh_token": refresh,
                "expires_in": int(runtime.policy.access_ttl.total_seconds())}

    return r
