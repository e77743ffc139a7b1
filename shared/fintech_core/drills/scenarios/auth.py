"""Phase 4, the attacker's drills: another customer's account (BOLA), a credit limit granted to
oneself (mass assignment), forged access tokens, and a refresh token replayed after rotation.

The attacker is bob, a seeded customer with a real login; the victim is alice. Each side is
played by the same people with the same credentials (auth_common.AuthSide): against the naive
baseline (naive/auth.py: no ownership check, the body as the row, a verifier that trusts the
token's header, refresh tokens never retired) and against phase 4. Every verdict that says
whether the attack worked is read from PostgreSQL: balances, account and credit-limit rows, the
audit log, refresh-token families. What the client was told is checked beside it, never instead.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fintech_core.auth.refresh import token_hash
from fintech_core.auth.runtime import AUDIENCE, ISSUER
from fintech_core.auth.tokens import utcnow
from fintech_core.drills import checks
from fintech_core.drills.drill import Ctx, Drill
from fintech_core.drills.ledger import LedgerFacts
from fintech_core.drills.report import Check
from fintech_core.drills.scenarios.auth_common import (
    DRIVER,
    AuthSide,
    Tokens,
    claims_for,
    forge_alg_none,
    forge_hs256_with_public_key,
    lab_signing_key,
    sign_es256,
)
from fintech_core.drills.wording import Attempt

AMOUNT = 100


def _n(value: float) -> str:
    """Whole amounts in full (2^53-1 is 9007199254740991, not 9.0072e+15)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _signed(value: float) -> str:
    return ("+" if value > 0 else "") + _n(value)


def _answer(a: Attempt) -> str:
    return f"{a.status} {_code(a)}" if _code(a) else str(a.status)


def _code(a: Attempt) -> str | None:
    return a.body.get("code") if isinstance(a.body, dict) else None


def untouched(ctx: Ctx, facts: LedgerFacts, victim: str, attacker: str) -> Check:
    """The victim's balance moved by nothing the attacker sent (the database's balance)."""
    lost = ctx.start[victim] - facts.balances[victim]
    ctx.headline["stolen"] = lost
    recorded = facts.transfers or {}
    moves = ", ".join(f"{n} {s.lower()}" for s, n in recorded.items()) or "none recorded"
    return Check(f"nothing leaves {victim}'s account on {attacker}'s request", lost == 0,
                 f"{victim} {_signed(-lost)}" + ("" if facts.transfers is None else
                                            f"; transfers out of it: {moves}"))


def _logged_in(side: AuthSide, *users: str) -> None:
    for user in users:
        side.login(user)
    said = (f"{users[0]} logs in" if len(users) == 1 else " and ".join(users) + " log in")
    side.ctx.timeline.log("drill", "note", said + " with a password (a real login)")


# --- 1. BOLA: another customer's account ---------------------------------------------------------
def _bola(ctx: Ctx) -> None:
    side = ctx.kept["side"] = AuthSide(ctx)
    _logged_in(side, "alice", "bob")
    side.open("alice", "alice", 1000)
    side.open("bob", "bob", 0)
    ctx.timeline.log("drill", "note", "bob has the id of alice's account (a shared link, a "
                                      "support screenshot, a sequential id)")
    ctx.kept["read"] = side.read("alice", "bob", why="(alice's account)")
    missing = str(uuid.uuid4()) if not side.naive else str(2**62)
    prefix = "/naive/auth" if side.naive else ""
    ctx.kept["missing"] = side.call("GET", f"{prefix}/accounts/{missing}", "bob",
                                    why="(an id that does not exist)")
    side.send("alice", "bob", AMOUNT, "bob", why=f"{AMOUNT} alice→bob, sent by bob")


def _check_bola(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    read, missing = ctx.kept["read"], ctx.kept["missing"]
    same = (read.status, _code(read)) == (missing.status, _code(missing)) and read.status == 404
    ctx.headline["read"] = read.status
    return [untouched(ctx, facts, "alice", "bob"), checks.conserved(ctx, facts),
            Check("alice's account is indistinguishable from a missing one", same,
                  f"alice's id: {_answer(read)}, a missing id: {_answer(missing)}")]


BOLA = Drill(
    name="bola",
    title="A customer reads and debits another customer's account",
    question="Bob is logged in and knows the id of Alice's account. Can he read it? Can he "
             "send its money to himself?",
    fault="attacker: bob, a real customer with a valid token, asks for alice's account by id "
          "and posts a transfer out of it to his own",
    client="bob: GET alice's account, GET an id that does not exist, POST a transfer of 100 "
           "from alice's account to his",
    invariant="nothing leaves alice's account on bob's request; her account answers bob "
              "exactly as a missing id does (404)",
    lesson="Authentication says who is calling, not what they may touch. Every object is "
           "checked against its holder (owned_or_404), and a stranger's id answers 404 like a "
           "missing one, so the attacker cannot even learn which ids exist (OWASP API1).",
    play=_bola,
    check=_check_bola,
)


# --- 2. mass assignment: a credit limit granted to oneself ---------------------------------------
CREDIT_LIMIT = 2**53 - 1
MINTED = 10**12
GRANTED = 500


def _credit(ctx: Ctx) -> None:
    side = ctx.kept["side"] = AuthSide(ctx)
    _logged_in(side, "alice")
    side.open("mule", "alice", 0)
    opened = side.open("credit", "alice", credit_limit=CREDIT_LIMIT, setup=False,
                       why="with credit_limit 2^53-1 in the body")
    if opened.succeeded:
        side.send("credit", "mule", MINTED, "alice", why=f"{_n(MINTED)} credit→mule")
    else:
        ctx.timeline.log("drill", "note", "no account, nothing to send from")
    side.tokens[DRIVER] = Tokens(side.driver_token())
    side.open("granted", DRIVER, credit_limit=GRANTED, setup=False,
              why=f"(the bank's back office, an admin, grants a credit limit of {GRANTED})")


_ADMINS = ("SELECT username FROM auth_users WHERE 'admin' = ANY(roles)"
           " UNION SELECT client_id FROM auth_clients WHERE 'admin' = ANY(roles)")


def credit_limits(side: AuthSide) -> list[tuple[str, float, str | None]]:
    """(account label, credit limit, the admin on record as granting it) for every account of
    this run with a credit limit, from the database."""
    like = f"%-{side.run}"
    if side.naive:  # whoever opened it set it; nothing records a grant
        rows = side.sql("SELECT a.owner, t.credit_limit, NULL FROM naive_accounts a JOIN"
                        " naive_account_terms t ON t.account_id = a.id WHERE a.owner LIKE %s"
                        " AND t.credit_limit <> 0", (like,))
    else:
        rows = side.sql("SELECT a.owner, l.credit_limit, (SELECT string_agg(g.actor, ',')"
                        " FROM audit_log g WHERE g.object_id = a.id AND g.action ="
                        f" 'account.credit-limit-set' AND g.actor IN ({_ADMINS}))"
                        " FROM accounts a JOIN ledger_accounts l ON l.account_id = a.id"
                        " WHERE a.owner LIKE %s AND l.credit_limit IS DISTINCT FROM 0", (like,))
    return [(str(o).rsplit("-", 1)[0], float(c) if c is not None else float("inf"), g)
            for o, c, g in rows]


def _check_credit(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    side: AuthSide = ctx.kept["side"]
    limits = credit_limits(side)
    unaudited = [(o, c) for o, c, g in limits if not g]
    ctx.headline["self_granted"] = len([o for o, _c, _g in limits if o == "credit"])
    gained = facts.balances["mule"] - ctx.start["mule"]
    below = {k: v for k, v in facts.balances.items() if v < 0}
    return [
        Check("every credit limit was granted by an admin, on record", not unaudited,
              "; ".join(f"{o}: {_n(c)} with no admin's grant on record" for o, c in unaudited)
              or ", ".join(f"{o}: {_n(c)} granted by {g}" for o, c, g in limits)),
        Check("no money out of nothing", gained == 0 and not below,
              f"mule {_signed(gained)}" + "".join(f", {k} {_n(v)}" for k, v in below.items())),
    ]


SELF_ASSIGNED_CREDIT_LIMIT = Drill(
    name="self-assigned-credit-limit",
    title="A customer opens an account with a credit limit of 2^53-1 and spends it",
    question="The account-opening form has no credit-limit field. What if alice sends one "
             "anyway, then sends 10^12 out?",
    fault="attacker: alice, a customer, posts credit_limit 2^53-1 with her new account (mass "
          "assignment), then a transfer of 10^12 to her other account",
    client="alice opens the account and sends 10^12; then the back office (the lab-driver "
           "client, an admin) opens one with a credit limit of 500, the proper way",
    invariant="every credit limit was granted by an admin and is on record (audit_log); no "
              "money out of nothing",
    lesson="A request body is not a row. Fields that grant power (credit_limit) need their own "
           "permission: a customer gets 403 and no account, an admin's grant leaves an audit "
           "event (OWASP API3: broken object property level authorization).",
    play=_credit,
    check=_check_credit,
)


# --- 3. forged access tokens ---------------------------------------------------------------------
def _forged(ctx: Ctx) -> None:
    side = ctx.kept["side"] = AuthSide(ctx)
    _logged_in(side, "alice", "bob")
    side.open("alice", "alice", 1000)
    side.open("bob", "bob", 0)
    private, kid = lab_signing_key(side.lab_dir)
    jwk = next(k for k in side.jwks()["keys"] if k.get("kid") == kid)
    ctx.timeline.log("client", "note", "bob fetches the public JWKS and writes four tokens "
                                       "that say sub=alice")
    now = utcnow()
    forgeries = {
        "alg none": forge_alg_none(claims_for("alice", ISSUER, AUDIENCE, now)),
        "HS256 keyed with the public key": forge_hs256_with_public_key(
            claims_for("alice", ISSUER, AUDIENCE, now), jwk),
        "expired an hour ago (leaked from a log)": sign_es256(
            claims_for("alice", ISSUER, AUDIENCE, now - timedelta(hours=1)), private, kid),
        "issued for another audience": sign_es256(
            claims_for("alice", ISSUER, "https://provider.fintech-core-lab.local", now),
            private, kid),
    }
    answers: dict[str, tuple[int | None, Any, str | None]] = {}
    for name, token in forgeries.items():
        a = side.send("alice", "bob", AMOUNT, "bob", token=token,
                      why=f"{AMOUNT} alice→bob, token: {name}")
        reason = a.body.get("reason") if isinstance(a.body, dict) else None
        answers[name] = (a.status, reason, side.www_authenticate)
    ctx.kept["answers"] = answers


def _check_forged(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    answers: dict[str, tuple[int | None, Any, str | None]] = ctx.kept["answers"]
    refused = {n: a for n, a in answers.items() if a[0] == 401 and a[2]}
    ctx.headline["accepted"] = sum(1 for s, _r, _w in answers.values() if s is not None
                                   and 200 <= s < 300)
    ctx.headline["reasons"] = {n: r for n, (_s, r, _w) in answers.items()}
    return [untouched(ctx, facts, "alice", "bob"),
            Check("every forgery is refused: 401 with WWW-Authenticate", len(refused) == len(answers),
                  "; ".join(f"{n}: {s} {r or ''}".strip() for n, (s, r, _w) in answers.items()))]


FORGED_TOKEN = Drill(
    name="forged-token",
    title="Four forged access tokens try to spend alice's money",
    question="What does your API do with a token whose header says alg: none? One signed "
             "HS256 with your public key? An expired one, or one meant for another API?",
    fault="attacker: bob sends transfers out of alice's account with tokens that say "
          "sub=alice: unsigned (alg none), HMAC-signed with the public key from the JWKS, "
          "genuinely signed but expired, genuinely signed for another audience",
    client="four transfers of 100 from alice to bob, one per forged token",
    invariant="nothing leaves alice's account; each forgery is a 401 with WWW-Authenticate",
    lesson="The verifier, not the token, picks the algorithm (ES256 only, RFC 8725 §3.1) and "
           "checks exp, iss and aud. A signature that verifies is not enough: an expired or "
           "misdirected genuine token is refused like a forged one.",
    play=_forged,
    check=_check_forged,
)


# --- 4. refresh-token replay after rotation ------------------------------------------------------
def _replay(ctx: Ctx) -> None:
    side = ctx.kept["side"] = AuthSide(ctx)
    _logged_in(side, "alice", "bob")
    side.open("alice", "alice", 1000)
    side.open("bob", "bob", 0)
    first = side.tokens["alice"].refresh
    assert first is not None, "a password login hands out a refresh token"
    ctx.timeline.log("drill", "note", f"alice's refresh token …{first[-6:]} also lands in a "
                                      "log bob can read")
    rotated = side.refresh("alice", first, why="(alice's app, as usual)")
    newest = rotated.body["refresh_token"] if rotated.succeeded else None
    stolen = side.refresh("bob", first, why="(bob replays the copy from the log)")
    if stolen.succeeded:
        side.send("alice", "bob", AMOUNT, "bob", token=stolen.body["access_token"],
                  why=f"{AMOUNT} alice→bob, with the access token the replay bought")
    later = side.refresh("alice", newest, why="(alice's app, next refresh)") if newest else None
    ctx.kept.update(first=first, newest=newest, stolen=stolen, later=later)


def refresh_facts(side: AuthSide, first: str) -> dict[str, Any]:
    """What the database says about the login `first` started: how often `first` was
    exchanged, how many tokens it produced, and whether the login is revoked."""
    if side.naive:
        children = side.sql("SELECT count(*) FROM naive_refresh_tokens WHERE parent = %s",
                            (first,))[0][0]
        chain = side.sql("WITH RECURSIVE chain AS (SELECT token FROM naive_refresh_tokens"
                         " WHERE token = %s UNION ALL SELECT t.token FROM naive_refresh_tokens t"
                         " JOIN chain c ON t.parent = c.token) SELECT count(*) FROM chain",
                         (first,))[0][0]
        return {"exchanges_of_first": int(children), "tokens": int(chain), "revoked": None,
                "live": int(chain), "issued_after_revocation": 0}
    [(family,)] = side.sql("SELECT family_id FROM refresh_tokens WHERE token_hash = %s",
                           (token_hash(first),))
    [(revoked_at, reason)] = side.sql("SELECT revoked_at, revoked_reason FROM refresh_families"
                                      " WHERE id = %s", (family,))
    [(tokens, after)] = side.sql(
        "SELECT count(*), count(*) FILTER (WHERE issued_at > %s) FROM refresh_tokens"
        " WHERE family_id = %s", (revoked_at or utcnow() + timedelta(days=1), family))
    # every token of the family was issued by one exchange of its predecessor, except the first
    return {"exchanges_of_first": int(tokens) - 1, "tokens": int(tokens), "revoked": reason,
            "live": 0 if revoked_at else int(tokens), "issued_after_revocation": int(after)}


def _check_replay(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    side: AuthSide = ctx.kept["side"]
    f = refresh_facts(side, ctx.kept["first"])
    ctx.headline.update(exchanges_of_stolen=f["exchanges_of_first"], revoked=f["revoked"])
    later: Attempt | None = ctx.kept["later"]
    return [
        untouched(ctx, facts, "alice", "bob"),
        Check("a refresh token is exchanged at most once", f["exchanges_of_first"] <= 1,
              f"alice's first refresh token was exchanged {f['exchanges_of_first']} time(s)"),
        Check("reuse revokes the whole login", f["revoked"] == "reuse" and f["live"] == 0
              and f["issued_after_revocation"] == 0,
              (f"login revoked ({f['revoked']}); {f['tokens']} token(s) issued, none after"
               if f["revoked"] else f"nothing revoked: {f['live']} of the login's "
               f"{f['tokens']} refresh tokens still work")),
        Check("alice's newest refresh token stopped working too",
              later is not None and later.answered and not later.succeeded,
              f"alice's next refresh: {later.summary() if later else 'not tried'}",
              binding=False),
    ]


REFRESH_REPLAY = Drill(
    name="refresh-token-replay",
    title="A stolen refresh token is replayed after its owner rotated it",
    question="Alice's refresh token leaked. She has used it since, so it is rotated. What "
             "happens when the thief presents the old one?",
    fault="attacker: bob replays alice's first refresh token after alice exchanged it for a "
          "new one, and spends with whatever access token it buys",
    client="alice logs in and refreshes; bob replays her first refresh token and, if that "
           "works, sends 100 from her account; then alice refreshes again",
    invariant="the old token buys nothing; its reuse revokes the whole login (refresh_families), "
              "so alice's newest token stops working too; nothing leaves her account",
    lesson="Rotation alone only helps if the old token is retired. Reuse of a rotated token "
           "means a copy exists and nobody can tell whose: revoke the family, and the real user "
           "logs in again (RFC 9700 §4.14.2).",
    play=_replay,
    check=_check_replay,
)
