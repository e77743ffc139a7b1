"""Phase 4, limits: how fast (a burst over the rate limit, Redis down under the limiter) and how
much (N concurrent transfers racing a daily limit that fits K).

Both sides play the same client. The naive baseline's money move is /naive/limited-transfers
(naive/limits.py: a fixed-window counter that fails open, a daily limit read-then-checked in
autocommit); the phase's is POST /transfers behind the GCRA middleware, with the amount limit in
the transfer's transaction. Every verdict counts rows: `transfers` (phase) or `naive_transfers`
(naive) for this run's source account, `account_daily_outgoing` for the day's total; the HTTP
answers are reported beside them, never trusted alone.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

from fintech_core.auth.seed import load_seeded
from fintech_core.drills import checks, dbfaults, inject
from fintech_core.drills.drill import PER_REQUEST, Ctx, Drill
from fintech_core.drills.ledger import LedgerFacts
from fintech_core.drills.report import Check
from fintech_core.drills.wording import Attempt, describe_error
from fintech_core.naive import limits as naive_limits

BURST_N = 60
BURST_WORKERS = 8
BURST_USER = "alice"  # a seeded customer: a person's rate policy
# The drill's own API runs a person's policy of 2 a second, burst 10 (the default is 20 and 40,
# sized for people clicking), so that the burst outruns the limit on any machine: on a 2-core box
# shared with other runs, 8 clients got only ~6 transfers a second through, and a 5/s policy
# refused almost nothing. The lesson is the shape (the burst, then the steady rate), not the
# numbers.
BURST_POLICY = {"rate_limit_user_per_second": 2, "rate_limit_user_burst": 10}
RACE_N, RACE_AMOUNT, RACE_LIMIT = 8, 100, 350  # the limit fits K = 3 of the 8
OUTAGE_MOVES = 5


@dataclass
class Sent:
    """One money move as the client saw it, with the answer's rate-limit fields."""

    key: str | None
    attempt: Attempt
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> int | None:
        return self.attempt.status

    @property
    def code(self) -> str | None:
        body = self.attempt.body
        return body.get("code") if isinstance(body, dict) else None


class Limits:
    """One side's client and facts for the limit drills, on the drill's timeline."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx, self.naive = ctx, ctx.target.side == "naive"
        self.client_id = f"drill-{ctx.target.run_id}"  # the naive side's self-declared caller
        # Who the client under test is: nobody for the naive baseline (it has no identity; its
        # routes are outside phase 4's limiter), the lab's driver for the phase until `as_user`.
        self.auth: Any = None if self.naive else ctx.stage.auth
        self.who = "anonymous" if self.naive else "lab-driver"
        if self.naive:  # its tables appear on first use; the drill reads them before that
            with psycopg.connect(ctx.stage.database_url, autocommit=True) as conn:
                naive_limits.ensure_tables(conn)

    # --- plumbing -------------------------------------------------------------------------------
    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.ctx.stage.database_url, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def _http(self, timeout: float) -> httpx.Client:
        return httpx.Client(base_url=self.ctx.target.client_url, timeout=timeout, auth=self.auth)

    def account(self, label: str) -> Any:
        return self.ctx.target.accounts[label]

    def as_user(self, user: str) -> None:
        """Phase: from now on the client is seeded person `user` (a password login): a person's
        rate policy, not the driver's (a service client's allowance is sized for the bench)."""
        password = load_seeded(self.ctx.stage.lab.settings)[user]["secret"]
        r = httpx.post(f"{self.ctx.stage.url}/auth/token", timeout=15, data={
            "grant_type": "password", "username": user, "password": password})
        r.raise_for_status()
        self.auth, self.who = _Bearer(r.json()["access_token"]), user
        self.ctx.timeline.log("drill", "note", f"the client is {user}, logged in with a password")

    def open_held(self, label: str, amount: int) -> None:
        """Phase: the current user opens account `label` (they hold it, so they may send from
        it) and the lab's driver funds it; counted in the drill's start balances."""
        with httpx.Client(base_url=self.ctx.stage.url, timeout=15) as http:
            opened = http.post("/accounts", auth=self.auth,
                               json={"owner": f"{label}-{self.ctx.target.run_id}",
                                     "currency": "EUR"},
                               headers={"Idempotency-Key": str(uuid.uuid4())})
            opened.raise_for_status()
            account = opened.json()["id"]
            if amount:
                http.post(f"/accounts/{account}/deposits", auth=self.ctx.stage.auth,
                          json={"amount": amount, "currency": "EUR"},
                          headers={"Idempotency-Key": str(uuid.uuid4())}).raise_for_status()
        self.ctx.target.accounts[label] = account
        self.ctx.start[label] = amount
        self.ctx.timeline.log("drill", "note", f"{self.who} opened {label} ({amount})")

    def set_daily_limit(self, label: str, limit: int) -> None:
        """The bank's configuration, not the client under test: the naive baseline's own route,
        or phase 4's PUT /accounts/{id}/limits as the lab's driver (an admin; audited)."""
        if self.naive:
            r = httpx.put(f"{self.ctx.stage.url}/naive/accounts/{self.account(label)}/daily-limit",
                          json={"daily_max": float(limit)}, timeout=15)
        else:
            r = httpx.put(f"{self.ctx.stage.url}/accounts/{self.account(label)}/limits",
                          json={"daily_outgoing_max": limit}, timeout=15,
                          auth=self.ctx.stage.auth)
        r.raise_for_status()
        self.ctx.timeline.log("drill", "note", f"operations set {label}'s daily outgoing limit "
                              f"to {limit}")

    # --- the client under test ------------------------------------------------------------------
    def move(self, src: str, dst: str, amount: int, key: str | None = None, why: str = "",
             timeout: float = 20) -> Sent:
        if self.naive:
            path, headers = "/naive/limited-transfers", {"X-Client-Id": self.client_id}
            body: dict[str, Any] = {"from_id": self.account(src), "to_id": self.account(dst),
                                    "amount": float(amount)}
            key = None
        else:
            key = key or str(uuid.uuid4())
            path, headers = "/transfers", {"Idempotency-Key": key}
            body = {"source_account_id": str(self.account(src)),
                    "destination_account_id": str(self.account(dst)), "amount": amount,
                    "currency": "EUR"}
        note = f"(key {key[:8]})" if key else "(no key)"
        self.ctx.timeline.log("client", "request", " ".join(
            w for w in (f"POST {path} {amount} {src}→{dst}", note, why) if w))
        return self._send("POST", path, body, headers, timeout, key)

    def read(self, label: str, why: str = "") -> Sent:
        path = (f"/naive/accounts/{self.account(label)}" if self.naive
                else f"/accounts/{self.account(label)}")
        self.ctx.timeline.log("client", "request", f"GET {path} {why}".strip())
        return self._send("GET", path, None, {}, 10, None)

    def _send(self, method: str, path: str, body: Any, headers: dict[str, str], timeout: float,
              key: str | None) -> Sent:
        started = time.monotonic()
        try:
            with self._http(timeout) as client:
                r = client.request(method, path, json=body, headers=headers)
            try:
                out = r.json()
            except ValueError:
                out = r.text[:200]
            attempt = Attempt(r.status_code, None, (time.monotonic() - started) * 1000, out,
                              r.headers.get("idempotent-replayed") == "true")
            sent = Sent(key, attempt, {k.lower(): v for k, v in r.headers.items()
                                       if k.lower() in _RATE_FIELDS})
            self.ctx.timeline.log("client", "answer", f"← {attempt.summary()}" + (
                f" Retry-After {sent.headers['retry-after']}"
                if "retry-after" in sent.headers else ""), status=r.status_code)
        except httpx.TransportError as exc:
            attempt = Attempt(None, describe_error(exc), (time.monotonic() - started) * 1000)
            sent = Sent(key, attempt)
            self.ctx.timeline.log("client", "error", f"✗ {attempt.summary()}")
        if method == "POST":
            self.ctx.target.attempts.append(attempt)
        return sent

    # --- facts: what the database says ----------------------------------------------------------
    def moves_from(self, label: str) -> tuple[int, float]:
        """(rows, total amount) of money moves recorded out of `label`'s account: COMPLETED or
        PENDING transfers (phase), or naive_transfers rows (naive)."""
        if self.naive:
            rows = self.sql("SELECT count(*), coalesce(sum(amount), 0) FROM naive_transfers"
                            " WHERE from_id = %s", (self.account(label),))
        else:
            # PENDING too: from phase 5 a burst from one account is held for a fraud review
            # (201, the money reserved), which is a move the limiter let through all the same.
            rows = self.sql("SELECT count(*), coalesce(sum(amount), 0) FROM transfers"
                            " WHERE kind = 'TRANSFER' AND status IN ('COMPLETED', 'PENDING')"
                            " AND source_id = %s::uuid", (str(self.account(label)),))
        return int(rows[0][0]), float(rows[0][1])

    def balance(self, label: str) -> float:
        if self.naive:
            rows = self.sql("SELECT balance FROM naive_accounts WHERE id = %s",
                            (self.account(label),))
        else:
            rows = self.sql("SELECT balance FROM accounts WHERE id = %s::uuid",
                            (str(self.account(label)),))
        return float(rows[0][0])

    def daily_counter(self, label: str) -> int | None:
        """Phase only: what `account_daily_outgoing` says left the account today (UTC)."""
        rows = self.sql("SELECT amount FROM account_daily_outgoing WHERE account_id = %s::uuid"
                        " AND day = (now() AT TIME ZONE 'UTC')::date", (str(self.account(label)),))
        return int(rows[0][0]) if rows else None


_RATE_FIELDS = ("retry-after", "ratelimit", "ratelimit-policy")


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def _policy(sent: list[Sent]) -> tuple[int, float] | None:
    """(quota, window seconds) from the first RateLimit-Policy field the API sent, if any."""
    for s in sent:
        m = re.search(r";q=(\d+);w=(\d+)", s.headers.get("ratelimit-policy", ""))
        if m:
            return int(m.group(1)), float(m.group(2))
    return None


def _remaining(s: Sent) -> int | None:
    m = re.search(r";r=(\d+)", s.headers.get("ratelimit", ""))
    return int(m.group(1)) if m else None


def _reset(s: Sent) -> int:
    """Seconds until the bucket is full again (RateLimit t=), 0 without the field."""
    m = re.search(r";t=(\d+)", s.headers.get("ratelimit", ""))
    return int(m.group(1)) if m else 0


def _is_rate_limited_problem(s: Sent) -> bool:
    return (s.status == 429 and s.code == "rate-limited" and "retry-after" in s.headers
            and "ratelimit" in s.headers and "ratelimit-policy" in s.headers)


# --- 1. a burst over the rate limit ---------------------------------------------------------------
def _burst(ctx: Ctx) -> None:
    lim = ctx.kept["limits"] = Limits(ctx)
    if lim.naive:
        ctx.open(alice=BURST_N, bob=0)
    else:  # a person's burst, from an account she holds
        ctx.open(bob=0)
        lim.as_user(BURST_USER)
        lim.open_held("alice", BURST_N)
    ctx.timeline.log("drill", "note", f"a client fires {BURST_N} transfers of 1, "
                     f"{BURST_WORKERS} at a time")
    started = time.monotonic()
    with ThreadPoolExecutor(BURST_WORKERS) as pool:
        sent = list(pool.map(lambda i: lim.move("alice", "bob", 1, why=f"#{i + 1}"),
                             range(BURST_N)))
    ctx.kept.update(sent=sent, elapsed_s=time.monotonic() - started)
    full = max((_reset(s) for s in sent), default=0)
    if full:  # leave the principal a full allowance for whatever runs next
        ctx.timeline.log("drill", "note", f"waiting {full} s (RateLimit t=) so the next drill "
                         "starts on a full allowance")
        time.sleep(full)


def _check_burst(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    lim: Limits = ctx.kept["limits"]
    sent: list[Sent] = ctx.kept["sent"]
    elapsed = ctx.kept["elapsed_s"]
    rows, _ = lim.moves_from("alice")
    ok = sum(1 for s in sent if s.attempt.succeeded)
    limited = [s for s in sent if s.status == 429]
    ctx.headline.update(sent=len(sent), landed=rows, refused_429=len(limited),
                        burst_ms=round(elapsed * 1000))
    result = [Check("the burst is cut: not every request moves money", rows < len(sent),
                    f"{rows} of {len(sent)} transfers recorded in {elapsed * 1000:.0f} ms")]
    policy = _policy(sent)
    if not lim.naive:
        # The allowance when the burst began, at most: the largest `remaining` any answer
        # reported, + 1 (answers come back in any order, so not the first request's).
        left = [r for r in map(_remaining, sent) if r is not None]
        allowance = max(left) + 1 if left else 0
        refill = math.ceil(elapsed * policy[0] / policy[1]) if policy else 0
        bound = allowance + refill + 1
        ctx.headline.update(allowance=allowance, bound=bound)
        result += [
            Check("no more land than the allowance plus what refilled during the burst",
                  rows <= bound, f"{rows} landed ≤ {allowance} at the start + {refill} refilled "
                  f"in {elapsed:.2f} s (+1 for clock edges) = {bound}" + (
                      f"; policy q={policy[0]} per {policy[1]:g} s" if policy else "")),
            Check("each refusal is a 429 problem with Retry-After and RateLimit fields",
                  bool(limited) and all(_is_rate_limited_problem(s) for s in limited),
                  f"{len(limited)} answered 429; "
                  f"{sum(1 for s in limited if _is_rate_limited_problem(s))} complete"),
            Check("a refused request leaves no row", rows == ok,
                  f"{ok} answered 201, {rows} COMPLETED or PENDING transfers in the table"),
        ]
    return [*result, checks.conserved(ctx, facts)]


BURST_OVER_RATE_LIMIT = Drill(
    name="burst-over-rate-limit",
    title="A client fires a burst of transfers far over its rate limit",
    question=f"A customer's script sends {BURST_N} transfers as fast as it can. How many move "
             "money, and what does the client hear about the rest?",
    fault=f"client: {BURST_N} transfers of 1 from one customer (phase: {BURST_USER}, logged in), "
          f"{BURST_WORKERS} in flight at a time, as fast as the API answers; the API's policy "
          f"for a person: {BURST_POLICY['rate_limit_user_per_second']} a second, burst "
          f"{BURST_POLICY['rate_limit_user_burst']}",
    client="fires the burst once, no retries; then waits Retry-After",
    invariant="at most the allowance (plus what refilled during the burst) lands; every other "
              "request is refused before it moves money: 429 problem+json, Retry-After, "
              "RateLimit-Policy and RateLimit fields; no row for a refused request",
    lesson="A limit counted per minute and sized so nobody ever hits it is no limit: the burst "
           "lands. GCRA in one Redis script admits the burst allowance, then one request per "
           "emission interval, the same for every API process that shares the Redis.",
    play=_burst,
    check=_check_burst,
    api_flags=BURST_POLICY,
)


# --- 2. N concurrent transfers race a daily limit that fits K -------------------------------------
def _race(ctx: Ctx) -> None:
    ctx.open(alice=RACE_N * RACE_AMOUNT, bob=0)
    lim = ctx.kept["limits"] = Limits(ctx)
    lim.set_daily_limit("alice", RACE_LIMIT)
    db, source = ctx.stage.database_url, lim.account("alice")
    with ThreadPoolExecutor(RACE_N) as pool:
        with dbfaults.row_locked(db, ctx.target.TABLE, source, ctx.timeline):
            futures = [pool.submit(lim.move, "alice", "bob", RACE_AMOUNT, why=f"#{i + 1}")
                       for i in range(RACE_N)]
            _wait_queued(ctx, db)
        sent = [f.result() for f in futures]
    ctx.kept["sent"] = [_after_rate_limit(lim, s) for s in sent]


def _after_rate_limit(lim: Limits, s: Sent) -> Sent:
    """A client that honours Retry-After: a request the rate limiter refused (it moved nothing)
    goes again, same key, once the limiter says so; the daily limit then judges it."""
    for _ in range(10):
        if s.status != 429 or s.key is None:
            break
        time.sleep(float(s.headers.get("retry-after", "1")))
        s = lim.move("alice", "bob", RACE_AMOUNT, key=s.key, why="(after Retry-After, same key)")
    return s


def _wait_queued(ctx: Ctx, db: str) -> None:
    """Hold the row until every request waits on it (or, if a group-commit batch carries
    several in one transaction, until nothing new has queued for a moment)."""
    try:
        inject.wait_for(f"{RACE_N} requests to queue on the source row",
                        lambda: dbfaults.lock_waiters(db) >= RACE_N, timeout=8)
        ctx.timeline.log("database", "fact", f"{RACE_N} requests wait on the source row, " + (
            "each already past its limit check (they all read the same day's total)"
            if ctx.target.side == "naive" else "none has checked the limit yet (the check "
            "runs after the row lock)"))
    except TimeoutError:
        waiting = dbfaults.lock_waiters(db)
        ctx.timeline.log("database", "fact", f"{waiting} transaction(s) wait on the source row "
                         "(requests batched together queue as one)")


def _check_race(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    lim: Limits = ctx.kept["limits"]
    sent: list[Sent] = ctx.kept["sent"]
    rows, total = lim.moves_from("alice")
    k = RACE_LIMIT // RACE_AMOUNT
    ctx.headline.update(n=RACE_N, fits=k, passed=rows, day_total=total, limit=RACE_LIMIT)
    result = [Check("the day's total stays within the limit", total <= RACE_LIMIT,
                    f"{rows} of {RACE_N} transfers of {RACE_AMOUNT} moved {total:g}; the daily "
                    f"limit is {RACE_LIMIT}")]
    if not lim.naive:
        refused = [s for s in sent if not s.attempt.succeeded]
        counter = lim.daily_counter("alice")
        ctx.headline["daily_counter"] = counter
        result += [
            Check(f"exactly {k} of {RACE_N} pass", rows == k,
                  f"{rows} COMPLETED transfers; {sum(1 for s in sent if s.attempt.succeeded)} "
                  "answered 201"),
            Check("the others are refused as over the daily limit",
                  all(s.status == 422 and s.code == "daily-limit-exceeded" for s in refused),
                  ", ".join(sorted({f"{s.status} {s.code}" for s in refused})) or "none"),
            Check("the day's counter is what the transfers moved", counter == total,
                  f"account_daily_outgoing {counter}, COMPLETED transfers {total:g}"),
        ]
    return [*result, checks.conserved(ctx, facts), checks.non_negative(ctx, facts)]


DAILY_LIMIT_RACE = Drill(
    name="daily-limit-race",
    title=f"{RACE_N} concurrent transfers race a daily limit that fits "
          f"{RACE_LIMIT // RACE_AMOUNT}",
    question=f"Alice may send {RACE_LIMIT} a day and {RACE_N} transfers of {RACE_AMOUNT} arrive "
             "together. How many pass?",
    fault="database: a batch job holds Alice's row for a moment, so every request is between "
          "its limit check and its debit (naive) or queued on the row (phase) at the same time",
    client=f"{RACE_N} different transfers (different keys), sent concurrently",
    invariant=f"the day's total ≤ {RACE_LIMIT}: exactly {RACE_LIMIT // RACE_AMOUNT} pass; the "
              "day's counter equals what moved; money conserved",
    lesson="Read the day's total, compare, then write: every request reads the same total and "
           "passes. Phase 4 checks after the source row's lock and counts in the same "
           "transaction (account_daily_outgoing), so the checks run one after the other and "
           "a refused or failed transfer never counts. A Redis counter cannot roll back with it.",
    play=_race,
    check=_check_race,
    # The fault is N transactions queued on Alice's row. With group commit (the default) the
    # requests of one batch queue as one transaction and the wait above times out (8 s): the
    # verdict holds either way, the picture it teaches is the per-request one.
    api_flags=PER_REQUEST,
)


# --- 3. Redis down under the limiter --------------------------------------------------------------
def _redis_down(ctx: Ctx) -> None:
    ctx.open(alice=1000, bob=0)
    lim = ctx.kept["limits"] = Limits(ctx)
    lab = ctx.stage.lab
    before_rows, _ = lim.moves_from("alice")
    inject.redis_down(lab, ctx.timeline)
    try:
        moves = [lim.move("alice", "bob", 10, why=f"#{i + 1}, Redis down")
                 for i in range(OUTAGE_MOVES)]
        read = lim.read("alice", "(a balance check, Redis down)")
        during_rows, _ = lim.moves_from("alice")
        ctx.kept.update(moves=moves, read=read, during=during_rows - before_rows,
                        balance_during=lim.balance("alice"))
        ctx.timeline.log("database", "fact", f"{during_rows - before_rows} transfer(s) from "
                         f"alice recorded while Redis was down")
    finally:
        inject.redis_up(lab, ctx.timeline)
    first = moves[0]
    if not lim.naive and first.key is not None:  # the same request, the same key, once more
        retry = lim.move("alice", "bob", 10, key=first.key, why="(Redis back: retry #1, same key)")
        for _ in range(20):  # the limiter's client reconnects on its next command
            if retry.status != 503:
                break
            time.sleep(0.25)
            retry = lim.move("alice", "bob", 10, key=first.key, why="(retry #1 again)")
        ctx.kept["retry"] = retry


def _check_redis_down(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    lim: Limits = ctx.kept["limits"]
    moves: list[Sent] = ctx.kept["moves"]
    read: Sent = ctx.kept["read"]
    during, balance = ctx.kept["during"], ctx.kept["balance_during"]
    ctx.headline.update(moved_while_down=during, read_status=read.status,
                        move_statuses=sorted({str(s.status) for s in moves}))
    result = [
        Check("no money moves while the limiter cannot count", during == 0,
              f"{during} of {len(moves)} transfers recorded while Redis was down"),
        Check("balances unchanged during the outage", balance == ctx.start["alice"],
              f"alice {ctx.start['alice']:g} → {balance:g} while Redis was down"),
        Check("reads are answered", read.status == 200,
              f"GET the balance → {read.attempt.summary()}"),
    ]
    if not lim.naive:
        retry: Sent | None = ctx.kept.get("retry")
        rows, _ = lim.moves_from("alice")
        result += [
            Check("money moves fail closed: 503 rate-limiter-unavailable with Retry-After",
                  all(s.status == 503 and s.code == "rate-limiter-unavailable"
                      and "retry-after" in s.headers for s in moves),
                  ", ".join(sorted({f"{s.status} {s.code}" for s in moves}))),
            Check("Redis back: the same request (same key) moves the money once",
                  retry is not None and retry.status == 201 and rows == 1,
                  f"retry → {retry.attempt.summary() if retry else 'not sent'}; "
                  f"{rows} COMPLETED transfer(s) from alice"),
        ]
    return [*result, checks.conserved(ctx, facts)]


REDIS_DOWN = Drill(
    name="redis-down",
    title="Redis, the rate limiter's store, goes down",
    question="The rate limiter's Redis is down. Do money moves run unlimited, does everything "
             "fail, or something in between?",
    fault="redis: the lab's Redis is stopped (SHUTDOWN NOSAVE, port confirmed closed) during "
          f"{OUTAGE_MOVES} transfers and a balance read, then started again (empty)",
    client=f"sends {OUTAGE_MOVES} transfers and one balance read while Redis is down; the "
           "phase's client retries its first transfer with the same key once Redis is back",
    invariant="no transfer recorded while Redis was down, balances unchanged, the read "
              "answered; afterwards the retried request moves the money once",
    lesson="Decide the outage before it happens. The naive limiter fails open for everything: "
           "an outage is an unlimited money path. Phase 4 fails closed for money moves (503, "
           "retry with the same key loses nothing) and open for reads (a cache outage is not "
           "a full outage); the amount limits are in PostgreSQL and hold either way.",
    play=_redis_down,
    check=_check_redis_down,
)

LIMIT_DRILLS = (BURST_OVER_RATE_LIMIT, DAILY_LIMIT_RACE, REDIS_DOWN)
