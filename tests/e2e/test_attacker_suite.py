"""The attacker suite: the OWASP API Security Top 10 (2023) items that apply to this API, played
against the live phase-4 API process with real tokens, each with two verdicts:

- the attacker succeeds 0 times (every answer is a refusal, with the status and code we expect);
- the database says nothing happened: balances and the rows of accounts, transfers, holds,
  payments, refresh families and the audit log are what they were before (`Db.unchanged`).

Cast (auth/seed.py): alice and bob are customers, sam support, ada admin, aud auditor,
payments-worker a service client. Bob is the attacker; alice the victim, whose accounts,
transfer, hold, payment and payout exist before any attack (the `world` fixture).

Items covered: API1 BOLA, API2 broken authentication, API3 broken object property level
authorization (mass assignment), API4 unrestricted resource consumption, API5 broken function
level authorization, API8 security misconfiguration, plus the phase-0 hole named in issue 15
(X-Client-Id replays another caller's idempotent response). Not applicable here: API6 (no
business flow to automate beyond the rate limits tested), API7 SSRF (the API fetches no URL a
caller gives), API9 inventory (one versioned API; the naive baseline is mounted only on drill
stacks and is the drills' deliberate target), API10 (the provider's answers are verified by
signature in phase 3's own tests).

A hole this suite found and the core fixed: uvicorn believes X-Forwarded-For from 127.0.0.1 by
default, and every lab client is 127.0.0.1, so a brute-forcer naming a new address per guess was
never throttled (10 wrong guesses in a row, then the right password got a token) and could aim
the lockout at a victim's address. The API now starts uvicorn with --no-proxy-headers
(stack/api_server.py, `fcl serve`); the brute-force test below fails without it.

One API process and one set of accounts serve the whole module (the machine is small); every
attack is read-only or refused, so tests do not disturb each other, except the rate-limit burst,
which waits for the attacker's bucket to refill after it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt
import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fintech_core.auth.runtime import AUDIENCE, ISSUER
from fintech_core.auth.seed import load_seeded
from fintech_core.auth.throttle import pair_key
from fintech_core.stack.session import LabSession

pytestmark = pytest.mark.e2e

EUR = "EUR"
# Where the victim logs in from after the brute force (any 127/8 address reaches the API).
VICTIM_ADDRESS = "127.0.0.2"
REFRESH_ADDRESS = "127.0.0.4"


# --- the cast -----------------------------------------------------------------------------------

def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(url: str, name: str, secret: str, kind: str, *, source: str | None = None,
          headers: dict[str, str] | None = None) -> httpx.Response:
    body = ({"grant_type": "password", "username": name, "password": secret} if kind == "user"
            else {"grant_type": "client_credentials", "client_id": name, "client_secret": secret})
    transport = httpx.HTTPTransport(local_address=source) if source else None
    with httpx.Client(base_url=url, timeout=30, transport=transport) as http:
        return http.post("/auth/token", data=body, headers=headers)


class Caller:
    """One identity's HTTP client. Requests refused by the rate limiter are retried after
    Retry-After: every attack but the burst must reach the check it targets, and bob's bucket
    (40 at once, 20 per second) is shared by all of them."""

    def __init__(self, url: str, token: str | None) -> None:
        self.token = token
        self.http = httpx.Client(base_url=url, timeout=30,
                                 headers=bearer(token) if token else {})

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        for _ in range(5):
            r = self.http.request(method, path, **kw)
            if r.status_code != 429 or r.json().get("code") != "rate-limited":
                return r
            time.sleep(float(r.headers.get("Retry-After", "1")))
        return r

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, **kw)


@dataclass
class World:
    s: LabSession
    secrets: dict[str, dict[str, Any]]
    alice: Caller
    bob: Caller
    sam: Caller
    ada: Caller
    aud: Caller
    worker: Caller
    anon: Caller
    alice_main: str   # alice's funded account
    alice_other: str  # alice's second account
    bob_main: str     # bob's funded account
    bob_other: str
    transfer: str     # alice_main -> alice_other, COMPLETED
    hold: str         # alice_main -> alice_other, PENDING (no timeout)
    hold_to_bob: str  # alice_main -> bob_main, PENDING: bob is a party, not the payer
    payment: str      # a SETTLED top-up of alice_main
    payout: str       # a SETTLED payout from alice_main
    db: psycopg.Connection  # autocommit: what the database really holds

    @property
    def url(self) -> str:
        return self.s.url

    def sql(self, query: str, params: tuple[object, ...] | None = None) -> list[tuple[Any, ...]]:
        return self.db.execute(query, params).fetchall()


def _opened(caller: Caller, owner: str) -> str:
    r = caller.post("/accounts", json={"owner": owner, "currency": EUR}, headers=key())
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _settled(caller: Caller, path: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        state = caller.get(path).json()["state"]
        if state in ("SETTLED", "FAILED"):
            assert state == "SETTLED", path
            return
        assert time.monotonic() < deadline, f"{path} still {state}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def world(drill_session: LabSession) -> Iterator[World]:
    s = drill_session
    assert "auth" in s.composition.features, "the attacker suite needs phase 4 (auth)"
    secrets = load_seeded(s.lab.settings)
    names = ("alice", "bob", "sam", "ada", "aud", "payments-worker")
    with ThreadPoolExecutor(3) as pool:  # each login is ~100 ms of scrypt on the server
        logins = list(pool.map(lambda n: login(s.url, n, secrets[n]["secret"],
                                               secrets[n]["kind"]), names))
    callers = {}
    for name, r in zip(names, logins, strict=True):
        assert r.status_code == 200, r.text
        callers[name] = Caller(s.url, r.json()["access_token"])
    alice, bob = callers["alice"], callers["bob"]
    alice_main, alice_other = _opened(alice, "alice"), _opened(alice, "alice")
    bob_main, bob_other = _opened(bob, "bob"), _opened(bob, "bob")
    for account in (alice_main, bob_main):  # the lab driver is the teller (ledger:deposit)
        d = s.http.post(f"/accounts/{account}/deposits", json={"amount": 10_000, "currency": EUR},
                        headers=key())
        assert d.status_code == 201, d.text
    move = {"source_account_id": alice_main, "destination_account_id": alice_other,
            "currency": EUR}
    t = alice.post("/transfers", json={**move, "amount": 500}, headers=key())
    assert t.status_code == 201 and t.json()["status"] == "COMPLETED", t.text
    h = alice.post("/holds", json={**move, "amount": 200}, headers=key())
    assert h.status_code == 201 and h.json()["status"] == "PENDING", h.text
    hb = alice.post("/holds", json={**move, "destination_account_id": bob_main, "amount": 100},
                    headers=key())
    assert hb.status_code == 201 and hb.json()["status"] == "PENDING", hb.text
    p = alice.post("/payments", json={"account_id": alice_main, "amount": 1_000, "currency": EUR},
                   headers=key())
    assert p.status_code == 202, p.text
    po = alice.post("/payouts", json={"account_id": alice_main, "amount": 300, "currency": EUR},
                    headers=key())
    assert po.status_code == 202, po.text
    _settled(alice, f"/payments/{p.json()['id']}")
    _settled(alice, f"/payouts/{po.json()['id']}")
    w = World(s, secrets, alice, bob, callers["sam"], callers["ada"], callers["aud"],
              callers["payments-worker"], Caller(s.url, None), alice_main, alice_other,
              bob_main, bob_other, t.json()["id"], h.json()["id"], hb.json()["id"], p.json()["id"],
              po.json()["id"], psycopg.connect(s.database_url, autocommit=True))
    yield w
    w.db.close()
    for c in (*callers.values(), w.anon):
        c.http.close()


# --- the verdicts ------------------------------------------------------------------------------

# Everything an attack could have changed. Not the read models, the outbox or the limiter's
# counters: workers and the limiter change those on their own, and no attack reaches them.
STATE_QUERIES = (
    "SELECT id, status, balance, holder FROM accounts ORDER BY id",
    "SELECT * FROM ledger_accounts ORDER BY 1",
    "SELECT id, status FROM transfers ORDER BY id",
    "SELECT count(*) FROM journal_entries",
    "SELECT count(*) FROM postings",
    "SELECT id, state FROM payments ORDER BY id",
    "SELECT id, state FROM payouts ORDER BY id",
    "SELECT id, state FROM refunds ORDER BY id",
    "SELECT id, revoked_at FROM refresh_families ORDER BY id",
    "SELECT count(*) FROM refresh_tokens",
    "SELECT * FROM audit_log ORDER BY 1",
    "SELECT * FROM account_limits ORDER BY 1",
    "SELECT principal, key FROM idempotency_keys ORDER BY 1, 2",
)


def db_state(w: World) -> list[list[tuple[Any, ...]]]:
    return [w.sql(q) for q in STATE_QUERIES]


@contextmanager
def unchanged(w: World) -> Iterator[None]:
    """The attack inside changes nothing the database holds."""
    before = db_state(w)
    yield
    after = db_state(w)
    for query, was, now in zip(STATE_QUERIES, before, after, strict=True):
        assert now == was, f"the attack changed the database: {query}"


def refused(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    return body


def same_as_missing(attack: httpx.Response, missing: httpx.Response, real: str,
                    fake: str) -> None:
    """An answer about someone else's object says exactly what one about a missing id says:
    status, content type and body, once the id is swapped for the missing one."""
    assert attack.status_code == missing.status_code, (attack.text, missing.text)
    assert attack.headers["content-type"] == missing.headers["content-type"]
    assert json.loads(attack.text.replace(real, fake)) == missing.json(), (attack.text,
                                                                             missing.text)


def new_id() -> str:
    return str(uuid.uuid4())


# --- API1: broken object level authorization ---------------------------------------------------

READ_PATHS: tuple[tuple[str, str], ...] = (
    ("/accounts/{}", "alice_main"),
    ("/accounts/{}/balance", "alice_main"),
    ("/accounts/{}/entries", "alice_main"),
    ("/accounts/{}/activity", "alice_main"),
    ("/transfers/{}", "transfer"),
    ("/transfers/{}", "hold"),
    ("/transfers/{}/story", "transfer"),
    ("/payments/{}", "payment"),
    ("/payouts/{}", "payout"),
)


@pytest.mark.parametrize(("template", "target"), READ_PATHS)
def test_api1_bob_cannot_read_alices_objects_and_learns_nothing(world: World, template: str,
                                                                target: str) -> None:
    real, fake = getattr(world, target), new_id()
    assert world.alice.get(template.format(real)).status_code == 200  # the object is there
    with unchanged(world):
        attack = world.bob.get(template.format(real))
        missing = world.bob.get(template.format(fake))
    assert attack.status_code == 404, attack.text
    same_as_missing(attack, missing, real, fake)


def test_api1_bob_lists_only_his_own_accounts(world: World) -> None:
    listed = {a["id"] for a in world.bob.get("/accounts", params={"limit": 200}).json()["items"]}
    assert listed == {world.bob_main, world.bob_other}
    by_owner = world.bob.get("/accounts", params={"owner": "alice", "limit": 200})
    assert by_owner.status_code == 200 and by_owner.json()["items"] == []


def _move(source: str, destination: str, amount: int = 100) -> dict[str, Any]:
    return {"source_account_id": source, "destination_account_id": destination,
            "amount": amount, "currency": EUR}


# (name, request against alice's object, the same request against a missing id); each builds
# (method, path, json body) from the world and an id standing for the victim's object.
Attack = Callable[[World, str], tuple[str, str, dict[str, Any] | None]]
WRITE_ATTACKS: tuple[tuple[str, str, Attack], ...] = (
    ("debit", "alice_main",
     lambda w, a: ("POST", "/transfers", _move(a, w.bob_main))),
    ("withdraw", "alice_main",
     lambda w, a: ("POST", f"/accounts/{a}/withdrawals", {"amount": 100, "currency": EUR})),
    ("hold", "alice_main",
     lambda w, a: ("POST", "/holds", _move(a, w.bob_main))),
    ("post-hold", "hold",
     lambda w, h: ("POST", f"/transfers/{h}/post", None)),
    ("void-hold", "hold",
     lambda w, h: ("POST", f"/transfers/{h}/void", None)),
    ("reverse", "transfer",
     lambda w, t: ("POST", f"/transfers/{t}/reversal", None)),
    ("top-up", "alice_main",
     lambda w, a: ("POST", "/payments", {"account_id": a, "amount": 100, "currency": EUR})),
    ("refund", "payment",
     lambda w, p: ("POST", f"/payments/{p}/refunds", None)),
    ("payout", "alice_main",
     lambda w, a: ("POST", "/payouts", {"account_id": a, "amount": 100, "currency": EUR})),
)


@pytest.mark.parametrize(("name", "target", "attack"), WRITE_ATTACKS,
                         ids=[a[0] for a in WRITE_ATTACKS])
def test_api1_bob_cannot_move_alices_money_and_learns_nothing(world: World, name: str,
                                                              target: str,
                                                              attack: Attack) -> None:
    real, fake = getattr(world, target), new_id()
    with unchanged(world):
        method, path, body = attack(world, real)
        hit = world.bob.request(method, path, json=body, headers=key())
        method, path, body = attack(world, fake)
        missing = world.bob.request(method, path, json=body, headers=key())
    # A reversal is staff work (API5): 403 whatever the id; every other attack is a 404.
    assert hit.status_code == (403 if name == "reverse" else 404), hit.text
    same_as_missing(hit, missing, real, fake)


def test_api1_the_payee_of_a_hold_can_read_it_but_never_post_or_void_it(world: World) -> None:
    """The most tempting debit: alice's hold pays bob; posting it is alice's decision alone."""
    hold = world.hold_to_bob
    assert world.bob.get(f"/transfers/{hold}").json()["status"] == "PENDING"  # he is a party
    with unchanged(world):
        posted = world.bob.post(f"/transfers/{hold}/post", json={"amount": 100}, headers=key())
        voided = world.bob.post(f"/transfers/{hold}/void", headers=key())
    refused(posted, 404, "transfer-not-found")
    refused(voided, 404, "transfer-not-found")


# --- API2: broken authentication ---------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join((_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()),
                     _b64(signature)))


def _claims(sub: str = "alice", roles: list[str] | None = None, **over: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "nbf": now,
              "exp": now + 240, "jti": uuid.uuid4().hex, "roles": roles or ["customer"],
              "client": "user"}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


@dataclass(frozen=True)
class LabKey:
    kid: str
    private: ec.EllipticCurvePrivateKey

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="module")
def lab_key(world: World) -> LabKey:
    """The issuer's current signing key, read from the lab directory: a token the suite signs
    with it differs from a real one only in what the test changes, so its refusal proves that
    very check (and the control token, signed the same way, is accepted)."""
    ring = json.loads((Path(world.s.lab.settings.lab_dir) / "auth" / "signing-keys.json")
                      .read_text())
    now = datetime.now(UTC)
    current = [k for k in ring if datetime.fromisoformat(k["signs_from"]) <= now][-1]
    private = serialization.load_pem_private_key(current["pem"].encode(), password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    return LabKey(current["kid"], private)


def _signed(k: LabKey, claims: dict[str, Any], **header: Any) -> str:
    return jwt.encode(claims, k.private, algorithm="ES256",
                      headers={"kid": k.kid, "typ": "at+jwt", **header})


def _forgeries(k: LabKey, bob_token: str) -> dict[str, tuple[str, str]]:
    """name -> (token, the stable reason the API must give). Each claims to be alice."""
    attacker_key = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    h_b, payload, sig = bob_token.split(".")
    bob_claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    tampered = {**bob_claims, "sub": "alice"}
    escalated = {**bob_claims, "roles": ["admin", "customer"]}
    hs_header = {"alg": "HS256", "typ": "at+jwt", "kid": k.kid}
    hs_input = f"{_b64(json.dumps(hs_header).encode())}.{_b64(json.dumps(_claims()).encode())}"
    hs_sig = hmac.new(k.public_pem, hs_input.encode(), hashlib.sha256).digest()
    return {
        "alg-none": (_unsigned({"alg": "none", "typ": "at+jwt", "kid": k.kid}, _claims()),
                     "algorithm-not-allowed"),
        "alg-none-uppercase": (_unsigned({"alg": "NONE", "typ": "at+jwt", "kid": k.kid},
                                         _claims()), "algorithm-not-allowed"),
        "hs256-keyed-with-public-key": (f"{hs_input}.{_b64(hs_sig)}", "algorithm-not-allowed"),
        "attacker-key-unknown-kid": (jwt.encode(_claims(), attacker_key, algorithm="ES256",
                                                headers={"kid": "attacker", "typ": "at+jwt"}),
                                     "unknown-kid"),
        "attacker-key-lab-kid": (jwt.encode(_claims(), attacker_key, algorithm="ES256",
                                            headers={"kid": k.kid, "typ": "at+jwt"}),
                                 "bad-signature"),
        "no-kid": (jwt.encode(_claims(), k.private, algorithm="ES256",
                              headers={"typ": "at+jwt"}), "unknown-kid"),
        "expired": (_signed(k, _claims(iat=now - 600, nbf=now - 600, exp=now - 300)), "expired"),
        "not-yet-valid": (_signed(k, _claims(iat=now, nbf=now + 300, exp=now + 300)),
                          "not-yet-valid"),
        "issued-in-the-future": (_signed(k, _claims(iat=now + 200, nbf=now, exp=now + 290)),
                                 "not-yet-valid"),
        "wrong-issuer": (_signed(k, _claims(iss="https://evil.example/auth")), "wrong-issuer"),
        "wrong-audience": (_signed(k, _claims(aud="another-api")), "wrong-audience"),
        "audience-list": (_signed(k, _claims(aud=[AUDIENCE, "another-api"])), "wrong-audience"),
        "no-exp": (_signed(k, _claims(exp=None)), "missing-claim"),
        "lifetime-too-long": (_signed(k, _claims(exp=now + 86_400)), "lifetime-too-long"),
        "id-token-type": (_signed(k, _claims(), typ="JWT"), "wrong-type"),
        "tampered-subject": (f"{h_b}.{_b64(json.dumps(tampered).encode())}.{sig}",
                             "bad-signature"),
        "tampered-roles": (f"{h_b}.{_b64(json.dumps(escalated).encode())}.{sig}",
                           "bad-signature"),
        "garbage": ("not.a.jwt", "malformed"),
        # The key must come from our ring, never from the token (RFC 8725 §3.10 / 2.7).
        "embedded-jwk": (jwt.encode(_claims(), attacker_key, algorithm="ES256", headers={
            "kid": k.kid, "typ": "at+jwt",
            "jwk": jwt.algorithms.ECAlgorithm.to_jwk(attacker_key.public_key(), as_dict=True)}),
                         "bad-signature"),
        "jku-header": (jwt.encode(_claims(), attacker_key, algorithm="ES256", headers={
            "kid": k.kid, "typ": "at+jwt", "jku": "http://127.0.0.1:9/jwks.json"}),
                       "bad-signature"),

    }


FORGERY_NAMES = ("alg-none", "alg-none-uppercase", "hs256-keyed-with-public-key",
                 "attacker-key-unknown-kid", "attacker-key-lab-kid", "no-kid", "expired",
                 "not-yet-valid", "issued-in-the-future", "wrong-issuer", "wrong-audience",
                 "audience-list", "no-exp", "lifetime-too-long", "id-token-type",
                 "tampered-subject", "tampered-roles", "garbage", "embedded-jwk", "jku-header")


def test_api2_the_forging_itself_works(world: World, lab_key: LabKey) -> None:
    """The control: a token the suite signs with the lab key and honest claims is accepted, so
    each forgery below is refused for the one thing it changes."""
    honest = Caller(world.url, _signed(lab_key, _claims()))
    assert honest.get(f"/accounts/{world.alice_main}").status_code == 200
    assert set(_forgeries(lab_key, world.bob.token or "")) == set(FORGERY_NAMES)


@pytest.mark.parametrize("forgery", FORGERY_NAMES)
def test_api2_forged_tokens_read_and_move_nothing(world: World, lab_key: LabKey,
                                                  forgery: str) -> None:
    token, reason = _forgeries(lab_key, world.bob.token or "")[forgery]
    forger = Caller(world.url, token)
    with unchanged(world):
        read = forger.get(f"/accounts/{world.alice_main}")
        debit = forger.post("/transfers", json=_move(world.alice_main, world.bob_main),
                            headers=key())
    for r in (read, debit):
        body = refused(r, 401, "token-invalid")
        assert body["reason"] == reason, (forgery, body)
        assert r.headers["www-authenticate"].startswith('Bearer realm="fintech-core-lab"')
        assert 'error="invalid_token"' in r.headers["www-authenticate"]


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Basic YWxpY2U6eA==",
                                           "Token abc"])
def test_api2_no_credentials_is_401_with_a_challenge(world: World,
                                                     authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    with unchanged(world):
        read = world.anon.get(f"/accounts/{world.alice_main}", headers=headers)
        debit = world.anon.post("/transfers", json=_move(world.alice_main, world.bob_main),
                                headers={**headers, **key()})
    for r in (read, debit):
        refused(r, 401, "unauthenticated")
        assert r.headers["www-authenticate"] == 'Bearer realm="fintech-core-lab"'


def test_api2_a_replayed_refresh_token_revokes_the_whole_family(world: World) -> None:
    entry = world.secrets["alice"]
    first = login(world.url, "alice", entry["secret"], "user", source=REFRESH_ADDRESS)
    assert first.status_code == 200, first.text
    stolen = first.json()["refresh_token"]
    family = world.sql("SELECT f.id FROM refresh_families f JOIN refresh_tokens t "
                         "ON t.family_id = f.id WHERE t.token_hash = %s",
                         (hashlib.sha256(stolen.encode()).digest(),))[0][0]

    def exchange(token: str) -> httpx.Response:
        return httpx.post(f"{world.url}/auth/token",
                          data={"grant_type": "refresh_token", "refresh_token": token})

    rotated = exchange(stolen)  # the legitimate client rotates
    assert rotated.status_code == 200, rotated.text
    current = rotated.json()["refresh_token"]
    assert current != stolen
    families = world.sql("SELECT count(*) FROM refresh_families")
    replay = exchange(stolen)  # the thief replays the copy
    refused(replay, 400, "refresh-token-reused")
    assert "access_token" not in replay.text
    # The family is revoked for good: the client's current token is dead too, and nothing new
    # was started.
    refused(exchange(current), 400, "invalid-grant")
    assert world.sql("SELECT revoked_reason FROM refresh_families WHERE id = %s",
                       (family,)) == [("reuse",)]
    assert world.sql("SELECT count(*) FROM refresh_families") == families
    assert world.sql("SELECT count(*) FROM refresh_tokens WHERE family_id = %s AND "
                       "rotated_at IS NULL", (family,)) == [(1,)]  # `current`, never issued again


def test_api2_login_answers_do_not_say_which_usernames_exist(world: World) -> None:
    source = "127.0.0.5"  # its own address: these failures lock nobody the suite needs
    answers = [login(world.url, name, "wrong-password", "user", source=source)
               for name in ("bob", "nobody-by-this-name")]
    for r in answers:
        refused(r, 400, "invalid-grant")
    assert answers[0].json() == answers[1].json()
    clients = [login(world.url, name, "wrong-secret", "client", source=source)
               for name in ("payments-worker", "no-such-client")]
    assert clients[0].status_code == clients[1].status_code == 401
    assert clients[0].json() == clients[1].json()


def test_api2_brute_force_hits_the_lockout_and_the_victim_still_logs_in(
        world: World, request: pytest.FixtureRequest) -> None:
    """The attacker guesses alice's password from one address, naming other addresses in
    X-Forwarded-For (the victim's first): after the free attempts (5) each try is throttled with
    a growing wait, the right password included, while alice logs in from her own address.
    (Before the API started uvicorn with --no-proxy-headers, uvicorn believed X-Forwarded-For from
    127.0.0.1: each guess counted under a new address, and the right one got a token.)"""
    entry = world.secrets["alice"]
    # The lockout lives in the module's database, which later modules of the session share:
    # lift it afterwards (alice logging in from 127.0.0.1 would, after the wait).
    request.addfinalizer(lambda: world.db.execute(
        "DELETE FROM login_failures WHERE scope = 'account_ip' AND key = %s",
        (pair_key("alice", "127.0.0.1"),)))
    spoofed = iter([VICTIM_ADDRESS, *(f"10.0.0.{i}" for i in range(1, 50))])

    def attempt(password: str) -> httpx.Response:
        address = next(spoofed)
        return login(world.url, "alice", password, "user",
                     headers={"X-Forwarded-For": address, "X-Real-IP": address})

    guesses: list[httpx.Response] = []
    with unchanged(world):
        # Guess on, waiting out each lockout, until the wait has doubled to >= 4 s (7 failures):
        # long enough that the right password, sent next, surely lands inside it on a busy box.
        while True:
            assert len(guesses) < 20, [r.status_code for r in guesses]
            guesses.append(attempt(f"guess-{len(guesses)}"))
            if guesses[-1].status_code == 429:
                wait = int(guesses[-1].headers["Retry-After"])
                if wait >= 4:
                    break
                time.sleep(wait)
        right = attempt(entry["secret"])
    failures = [r for r in guesses if r.status_code == 400]
    lockouts = [r for r in guesses if r.status_code == 429]
    assert len(failures) + len(lockouts) == len(guesses)
    assert 7 <= len(failures) <= 8, [r.status_code for r in guesses]  # 5 free, then 1 s, 2 s
    for r in failures:
        refused(r, 400, "invalid-grant")
    for r in lockouts:
        assert refused(r, 429, "login-throttled")["retry_after"] >= 1
    refused(right, 429, "login-throttled")  # during the lockout the password is not even checked
    victim = login(world.url, "alice", entry["secret"], "user", source=VICTIM_ADDRESS)
    assert victim.status_code == 200, victim.text
    own = Caller(world.url, victim.json()["access_token"])
    assert own.get(f"/accounts/{world.alice_main}").status_code == 200


# --- API3: broken object property level authorization (mass assignment) ------------------------

def _bobs_accounts(w: World) -> int:
    return int(w.sql("SELECT count(*) FROM accounts WHERE holder = 'bob'")[0][0])  # type: ignore[call-overload]


def test_api3_a_customer_cannot_grant_himself_credit(world: World) -> None:
    with unchanged(world):
        r = world.bob.post("/accounts", headers=key(),
                           json={"owner": "bob", "currency": EUR, "credit_limit": 2**53 - 1})
    refused(r, 403, "forbidden")


@pytest.mark.parametrize("extra", [{"holder": "alice"}, {"balance": 10**9}, {"status": "ACTIVE"},
                                   {"id": "00000000-0000-0000-0000-000000000001"},
                                   {"roles": ["admin"]}, {"credit_limit": 1, "holder": "bob"}])
def test_api3_unknown_or_server_owned_fields_are_refused(world: World,
                                                         extra: dict[str, Any]) -> None:
    with unchanged(world):
        opened = world.bob.post("/accounts", headers=key(),
                                json={"owner": "bob", "currency": EUR, **extra})
        moved = world.bob.post("/transfers", headers=key(),
                               json={**_move(world.bob_main, world.alice_main, 1), **extra})
    assert opened.status_code in (403, 422), opened.text
    assert opened.status_code == 403 or opened.json()["code"] == "validation-error"
    refused(moved, 422, "validation-error")


def test_api3_the_holder_is_the_token_subject_whatever_the_body_says(world: World) -> None:
    before = _bobs_accounts(world)
    r = world.bob.post("/accounts", headers=key(), json={"owner": "alice", "currency": EUR})
    assert r.status_code == 201, r.text
    account = r.json()["id"]
    assert world.sql("SELECT holder FROM accounts WHERE id = %s", (account,)) == [("bob",)]
    assert _bobs_accounts(world) == before + 1
    assert world.alice.get(f"/accounts/{account}").status_code == 404  # "owner" grants nothing


def test_api3_a_credit_limit_is_granted_only_with_the_permission_and_audited(
        world: World) -> None:
    """The control of the mass-assignment test: a principal holding accounts:credit-limit (the
    lab driver: admin and customer; an admin alone opens no accounts) does it, on the record."""
    r = world.s.http.post("/accounts", headers=key(),
                          json={"owner": "carol", "currency": EUR, "credit_limit": 5_000})
    assert r.status_code == 201, r.text
    rows = world.sql("SELECT actor, action, details FROM audit_log WHERE object_id = %s",
                     (r.json()["id"],))
    assert rows == [("lab-driver", "account.credit-limit-set", {"credit_limit": 5_000})]


# --- API5: broken function level authorization -------------------------------------------------

def _staff_calls(w: World) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("POST", f"/accounts/{w.alice_main}/freeze", None),
        ("POST", f"/accounts/{w.bob_main}/freeze", None),
        ("POST", f"/accounts/{w.bob_main}/unfreeze", None),
        ("POST", f"/accounts/{w.bob_other}/close", None),
        ("PUT", f"/accounts/{w.bob_main}/limits",
         {"per_transfer_max": 10**12, "daily_outgoing_max": None}),
        ("POST", f"/accounts/{w.bob_main}/deposits", {"amount": 10**6, "currency": EUR}),
        ("POST", f"/transfers/{w.transfer}/reversal", None),
        ("GET", "/ledger/verify", None),
        ("GET", "/payments/webhooks/stats", None),
        ("GET", "/_drill/faults", None),
        ("POST", "/_drill/faults", {"point": "transfer.before_commit", "action": "error"}),
        ("DELETE", "/_drill/faults", None),
    ]


def test_api5_a_customer_cannot_call_staff_functions(world: World) -> None:
    calls = _staff_calls(world)
    with unchanged(world):
        answers = [world.bob.request(m, p, json=b, headers=key()) for m, p, b in calls]
    for (method, path, _), r in zip(calls, answers, strict=True):
        body = refused(r, 403, "forbidden")
        assert body["permission"], (method, path)
        assert 'error="insufficient_scope"' in r.headers["www-authenticate"]
    armed = world.s.http.get("/_drill/faults").json()["armed"]
    assert armed == {}


def test_api5_support_freezes_but_cannot_unfreeze_close_or_set_limits(world: World) -> None:
    with unchanged(world):
        answers = [world.sam.request(m, p, json=b, headers=key())
                   for m, p, b in _staff_calls(world)
                   if not p.endswith("/freeze") and "webhooks/stats" not in p]
    for r in answers:
        refused(r, 403, "forbidden")


def test_api5_an_auditor_reads_but_never_moves_money(world: World) -> None:
    w = world
    assert w.aud.get(f"/accounts/{w.alice_main}/balance").status_code == 200
    assert w.aud.get("/ledger/verify").status_code == 200
    moves = [
        ("POST", "/transfers", _move(w.alice_main, w.bob_main)),
        ("POST", f"/accounts/{w.alice_main}/withdrawals", {"amount": 1, "currency": EUR}),
        ("POST", f"/accounts/{w.alice_main}/deposits", {"amount": 1, "currency": EUR}),
        ("POST", "/holds", _move(w.alice_main, w.bob_main)),
        ("POST", f"/transfers/{w.hold}/void", None),
        ("POST", f"/transfers/{w.transfer}/reversal", None),
        ("POST", "/payments", {"account_id": w.alice_main, "amount": 1, "currency": EUR}),
        ("POST", "/payouts", {"account_id": w.alice_main, "amount": 1, "currency": EUR}),
        ("POST", f"/payments/{w.payment}/refunds", None),
        ("POST", "/accounts", {"owner": "aud", "currency": EUR}),
        ("POST", f"/accounts/{w.alice_main}/freeze", None),
        ("PUT", f"/accounts/{w.alice_main}/limits", {"per_transfer_max": 1}),
    ]
    with unchanged(world):
        answers = [w.aud.request(m, p, json=b, headers=key()) for m, p, b in moves]
    for r in answers:
        refused(r, 403, "forbidden")


def test_api5_a_service_client_cannot_read_or_move_customers_money(world: World) -> None:
    w = world
    calls = [
        ("GET", f"/accounts/{w.alice_main}", None),
        ("GET", "/accounts", None),
        ("GET", f"/accounts/{w.alice_main}/balance", None),
        ("GET", f"/accounts/{w.alice_main}/entries", None),
        ("GET", f"/transfers/{w.transfer}", None),
        ("GET", f"/payments/{w.payment}", None),
        ("POST", "/transfers", _move(w.alice_main, w.bob_main)),
        ("POST", f"/accounts/{w.alice_main}/withdrawals", {"amount": 1, "currency": EUR}),
        ("POST", "/payouts", {"account_id": w.alice_main, "amount": 1, "currency": EUR}),
    ]
    with unchanged(world):
        answers = [w.worker.request(m, p, json=b, headers=key()) for m, p, b in calls]
    for r in answers:
        refused(r, 403, "forbidden")


def test_api5_the_provider_simulators_admin_knobs_refuse_customer_tokens(world: World) -> None:
    sim = f"http://127.0.0.1:{world.s.lab.settings.provider_port}"
    for token in (world.bob.token, world.ada.token):
        r = httpx.post(f"{sim}/_admin/knobs", json={"provider": "*", "decline": True},
                       headers=bearer(token or ""), timeout=10)
        assert r.status_code in (401, 403), r.text
    knobs = httpx.get(f"{sim}/_admin/knobs", headers=bearer(world.bob.token or ""), timeout=10)
    assert knobs.status_code in (401, 403)


# --- the phase-0 hole: X-Client-Id replays another caller's idempotent response ----------------

def test_x_client_id_spoofing_never_replays_alices_response(world: World) -> None:
    w = world
    stolen = str(uuid.uuid4())
    first = w.alice.post("/transfers", json=_move(w.alice_main, w.alice_other, 7),
                         headers={"Idempotency-Key": stolen, "X-Client-Id": "alice"})
    assert first.status_code == 201, first.text
    alice_transfer = first.json()["id"]
    # The very request alice sent, her key and her client id: bob reaches nothing of hers.
    with unchanged(world):
        same = w.bob.post("/transfers", json=_move(w.alice_main, w.alice_other, 7),
                          headers={"Idempotency-Key": stolen, "X-Client-Id": "alice"})
        anonymous = w.anon.post("/transfers", json=_move(w.alice_main, w.alice_other, 7),
                                headers={"Idempotency-Key": stolen, "X-Client-Id": "alice"})
    refused(same, 404, "account-not-found")
    refused(anonymous, 401, "unauthenticated")
    assert alice_transfer not in same.text + anonymous.text
    # Her key on a request of his own: his own execution, never her stored body.
    own = w.bob.post("/transfers", json=_move(w.bob_main, w.bob_other, 7),
                     headers={"Idempotency-Key": stolen, "X-Client-Id": "alice"})
    assert own.status_code == 201, own.text
    assert "idempotent-replayed" not in own.headers
    assert own.json()["id"] != alice_transfer and own.json()["source_account_id"] == w.bob_main
    assert w.sql("SELECT principal FROM idempotency_keys WHERE key = %s ORDER BY 1",
                   (stolen,)) == [("alice",), ("bob",)]
    # And X-Client-Id names nobody: bob claiming the lab driver still may not deposit.
    refused(w.bob.post(f"/accounts/{w.bob_main}/deposits", json={"amount": 1, "currency": EUR},
                       headers={**key(), "X-Client-Id": "lab-driver"}), 403, "forbidden")


# --- API8: security misconfiguration -----------------------------------------------------------

LEAKS = ("Traceback", 'File "', ".py\"", "psycopg", "asyncpg", "sqlalchemy", "site-packages",
         "SELECT ", "Exception")


def test_api8_errors_never_leak_internals(world: World) -> None:
    w = world
    probes = [
        w.bob.post("/transfers", content=b'{"amount": ', headers={**key(),
                                                                 "Content-Type": "application/json"}),
        w.bob.post("/transfers", json={**_move(w.bob_main, w.alice_main), "amount": 10**40},
                   headers=key()),
        w.bob.post("/transfers", json={**_move(w.bob_main, w.alice_main), "amount": -1},
                   headers=key()),
        w.bob.post("/transfers", json={**_move(w.bob_main, w.alice_main), "reference": "\x00"},
                   headers=key()),
        w.bob.get("/accounts/not-a-uuid"),
        w.bob.get(f"/accounts/{w.bob_main}/entries", params={"cursor": "%%%"}),
        w.bob.get(f"/accounts/{w.bob_main}/balance", params={"as_of": "yesterday"}),
        w.bob.post("/transfers", json=_move(w.bob_main, w.alice_main),
                   headers={"Idempotency-Key": "x" * 300}),
        w.anon.get("/accounts", headers={"Authorization": "Bearer " + "A" * 8000}),
        w.anon.get("/accounts", headers={"Authorization": "Bearer e30.e30.e30"}),
        httpx.post(f"{w.url}/auth/token", data={"grant_type": "password", "username": "x" * 5000,
                                                "password": "y"}),
        httpx.post(f"{w.url}/auth/token", content=b"\xff\xfe", headers={
            "Content-Type": "application/x-www-form-urlencoded"}),
    ]
    for r in probes:
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json"), r.text
        assert not [leak for leak in LEAKS if leak in r.text], r.text


def test_api8_docs_are_offline_and_the_contract_names_no_self_declared_caller(
        world: World) -> None:
    docs = world.anon.get("/docs")
    assert docs.status_code == 200
    assert "default-src 'self'" in docs.headers["content-security-policy"]
    assert "https://" not in docs.text.replace("https://fintech-core-lab", "")
    spec = world.anon.get("/openapi.json").json()
    headers = {p["name"].lower() for op in spec["paths"].values() for m in op.values()
               if isinstance(m, dict) for p in m.get("parameters", []) if p.get("in") == "header"}
    assert "x-client-id" not in headers
    # No CORS grant to other origins: a page elsewhere cannot script this API with a token.
    preflight = world.anon.request("OPTIONS", "/transfers", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization"})
    assert "access-control-allow-origin" not in preflight.headers
    jwks = world.anon.get("/.well-known/jwks.json").json()
    assert jwks["keys"] and all(set(k) & {"d", "p", "q"} == set() for k in jwks["keys"])


# --- API4: unrestricted resource consumption (last: it drains bob's bucket) --------------------

def test_api4_an_oversized_body_is_413_before_anything_runs(world: World) -> None:
    body = {**_move(world.bob_main, world.alice_main), "reference": "x" * (70 * 1024)}
    with unchanged(world):
        declared = world.bob.post("/transfers", json=body, headers=key())
        chunked = world.bob.post("/transfers", headers={**key(),
                                                        "Content-Type": "application/json"},
                                 content=iter([json.dumps(body).encode()[i:i + 8192]
                                               for i in range(0, 80 * 1024, 8192)]))
    refused(declared, 413, "payload-too-large")
    refused(chunked, 413, "payload-too-large")


def test_api4_a_burst_is_cut_with_429_and_the_ratelimit_fields(world: World) -> None:
    """Bob fires 150 reads at once (8 at a time): his bucket holds 40 plus 20 a second, so the
    limiter must cut the burst, each cut a 429 with Retry-After and the IETF fields."""
    path = f"/accounts/{world.bob_main}/balance"
    with unchanged(world), ThreadPoolExecutor(8) as pool:
        # Caller.http, not Caller.get: that one waits the limiter out.
        answers = list(pool.map(lambda _: world.bob.http.get(path), range(150)))
    served = [r for r in answers if r.status_code == 200]
    cut = [r for r in answers if r.status_code == 429]
    assert len(served) + len(cut) == len(answers), {r.status_code for r in answers}
    assert served and cut, (len(served), len(cut))
    assert all("ratelimit-policy" in r.headers and "ratelimit" in r.headers for r in served)
    for r in cut:
        body = refused(r, 429, "rate-limited")
        assert body["detail"] and int(r.headers["Retry-After"]) >= 1
        assert r.headers["ratelimit-policy"].startswith('"per-user";q=')
        assert ";r=0;" in r.headers["ratelimit"], r.headers["ratelimit"]
    # Another principal's bucket is untouched by bob's burst.
    assert world.alice.http.get(f"/accounts/{world.alice_main}").status_code == 200
    time.sleep(max(float(r.headers["Retry-After"]) for r in cut))
    deadline = time.monotonic() + 5
    while world.bob.http.get(path).status_code == 429:  # refilled: the tests after this pass
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_api4_pages_are_capped(world: World) -> None:
    for path in ("/accounts", f"/accounts/{world.bob_main}/entries",
                 f"/accounts/{world.bob_main}/activity"):
        refused(world.bob.get(path, params={"limit": 100_000}), 422, "validation-error")
