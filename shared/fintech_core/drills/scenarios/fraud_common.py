"""What the fraud drills share: one client for both sides, acting as the lab's seeded people.

Rules are about people's money: every v1 rule is scoped to callers that are not the lab's own
machine clients, so the phase side logs in as alice and bob (customers) and sam (support), and
the lab's driver only funds accounts. The naive baseline (naive/fraud.py) has no identity; the
same people's requests reach `/naive/fraud/...` unauthenticated. Verdicts come from PostgreSQL:
`transfers`, `ledger_accounts`, `fraud_decisions`, `fraud_reviews` (phase 5) or the baseline's
`naive_accounts`, `naive_fraud_*`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

import httpx
import psycopg

from fintech_core.drills.drill import Ctx
from fintech_core.drills.scenarios.auth_common import DRIVER, seeded_secret
from fintech_core.drills.wording import Attempt, describe_error
from fintech_core.naive import fraud as naive_fraud

CURRENCY = "EUR"
# The API flags of a drill whose lesson is what the rules decide (mule, shadow, review): a budget
# no loaded machine misses, and feature windows of its own. At the default 20 ms a 2-core box
# shared with other runs sometimes falls back (allow, counted) and the drill would teach the
# budget instead, which is slow-fraud-check's lesson. In shared windows, a test session's other
# customer traffic (all from 127.0.0.1) made v1's ip-velocity add its 30 points to the review
# drill's two review rules: 120, a block, where the drill shows a review. Amounts everywhere are
# minor units (the mule rule's floor is 50000).
def deciding(drill: str) -> Mapping[str, object]:
    return {"fraud_budget_ms": 1000, "fraud_features_prefix": f"fcl:fraud:drill:{drill}:"}


class FraudSide:
    """The drill's people on one side, on the drill's timeline."""

    def __init__(self, ctx: Ctx, naive_path: str = "/naive/fraud/transfers") -> None:
        self.ctx, self.naive = ctx, ctx.target.side == "naive"
        self.naive_path = naive_path  # the baseline's money move (with or without its check)
        self.run = ctx.target.run_id
        self.tokens: dict[str, str] = {}
        if self.naive:  # its tables appear on first use; the drill reads them before that
            with psycopg.connect(ctx.stage.database_url, autocommit=True) as conn:
                naive_fraud.ensure_tables(conn)

    # --- who is calling ---------------------------------------------------------------------------
    def token(self, who: str) -> str:
        if who not in self.tokens:
            secret = seeded_secret(self.ctx.stage.lab.settings.lab_dir, who)
            body = ({"grant_type": "client_credentials", "client_id": who, "client_secret": secret}
                    if who == DRIVER else
                    {"grant_type": "password", "username": who, "password": secret})
            r = httpx.post(f"{self.ctx.stage.url}/auth/token", data=body, timeout=15)
            r.raise_for_status()
            self.tokens[who] = r.json()["access_token"]
        return self.tokens[who]

    # --- HTTP -------------------------------------------------------------------------------------
    def call(self, method: str, path: str, who: str, body: dict[str, Any] | None = None, *,
             key: str | None = None, timeout: float = 20, why: str = "",
             log: bool = True) -> Attempt:
        headers = {} if self.naive else {"Authorization": f"Bearer {self.token(who)}"}
        if key:
            headers["Idempotency-Key"] = key
        if log:
            self.ctx.timeline.log("client", "request", " ".join(
                w for w in (f"{who}: {method} {path}", why) if w))
        started = time.monotonic()
        try:
            r = httpx.request(method, f"{self.ctx.stage.url}{path}", json=body, headers=headers,
                              timeout=timeout)
            out = r.json() if r.content else None
            attempt = Attempt(r.status_code, None, (time.monotonic() - started) * 1000, out,
                              r.headers.get("idempotent-replayed") == "true")
            if log:
                self.ctx.timeline.log("client", "answer", f"← {attempt.summary()}",
                                      status=r.status_code)
        except httpx.TransportError as exc:
            attempt = Attempt(None, describe_error(exc), (time.monotonic() - started) * 1000)
            if log:
                self.ctx.timeline.log("client", "error", f"✗ {attempt.summary()}")
        if log and method == "POST":
            self.ctx.target.attempts.append(attempt)
        return attempt

    @staticmethod
    def ok(attempt: Attempt, what: str) -> Any:
        if not attempt.succeeded:
            raise RuntimeError(f"drill setup failed: {what}: {attempt.summary()} {attempt.body}")
        return attempt.body

    # --- accounts and money -----------------------------------------------------------------------
    def open(self, label: str, who: str, amount: int = 0) -> None:
        """`who` opens account `label` (they hold it, so they may send from it); the lab's driver
        funds it with `amount` (a deposit: the driver is a service caller, no rule looks)."""
        owner = f"{label}-{self.run}"
        if self.naive:
            account = self.ctx.target.setup("/naive/accounts",
                                            {"owner": owner, "balance": float(amount)})["id"]
        else:
            account = self.ok(self.call("POST", "/accounts", who,
                                        {"owner": owner, "currency": CURRENCY},
                                        key=uuid.uuid4().hex, log=False), f"{who} opens")["id"]
            if amount:
                self.ok(self.call("POST", f"/accounts/{account}/deposits", DRIVER,
                                  {"amount": amount, "currency": CURRENCY},
                                  key=uuid.uuid4().hex, log=False), f"funding {label}")
        self.ctx.target.accounts[label] = account
        self.ctx.start[label] = float(amount)
        self.ctx.timeline.log("drill", "note", f"{who} opened {label} ({amount:g})")

    def send(self, src: str, dst: str, amount: int, who: str, *, timeout: float = 20,
             key: str | None = None, why: str = "", log: bool = True) -> Attempt:
        ids = self.ctx.target.accounts
        what = why or f"{amount:g} {src}→{dst}"
        if self.naive:
            return self.call("POST", self.naive_path, who,
                             {"from_id": ids[src], "to_id": ids[dst], "amount": float(amount)},
                             timeout=timeout, why=what, log=log)
        return self.call("POST", "/transfers", who,
                         {"source_account_id": str(ids[src]), "destination_account_id": str(ids[dst]),
                          "amount": amount, "currency": CURRENCY},
                         key=key or uuid.uuid4().hex, timeout=timeout, why=what, log=log)

    # --- facts ------------------------------------------------------------------------------------
    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.ctx.stage.database_url, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def db_now(self) -> Any:
        """The database's clock: verdicts about "before" and "after" compare its timestamps."""
        return self.sql("SELECT clock_timestamp()")[0][0]

    def moved_out(self, label: str) -> tuple[int, int]:
        """(count, total) of money that left `label` by transfer: COMPLETED transfers (phase),
        moved naive_fraud_transfers rows (naive)."""
        account = self.ctx.target.accounts[label]
        if self.naive:
            rows = self.sql("SELECT count(*), coalesce(sum(amount), 0) FROM naive_fraud_transfers"
                            " WHERE from_id = %s AND moved", (account,))
        else:
            rows = self.sql("SELECT count(*), coalesce(sum(amount), 0) FROM transfers"
                            " WHERE kind = 'TRANSFER' AND status = 'COMPLETED'"
                            " AND source_id = %s::uuid", (str(account),))
        return int(rows[0][0]), int(rows[0][1])
