"""What the payment drills share: one client for both sides (the naive baseline's /naive payment
routes, or the phase's /payments and /payouts with an Idempotency-Key), and the facts and
invariants they are judged by: the customer's balance and states from PostgreSQL, what the
provider charged and paid from its settlement report, never what a client was told.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import psycopg

from fintech_core.drills.drill import Ctx
from fintech_core.drills.ledger import LedgerFacts
from fintech_core.drills.provider import Simulator
from fintech_core.drills.report import Check
from fintech_core.drills.wording import Attempt, describe_error

PHASE_TABLES = ("payments", "payouts", "refunds")


class Pay:
    """One side's payment client, on the drill's timeline."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx, self.naive = ctx, ctx.target.side == "naive"
        self.sim = Simulator(ctx.stage, ctx.timeline)
        self.sim.reset()
        self.rejected_before = self.rejections()

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.ctx.stage.database_url, autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def post(self, path: str, body: dict[str, Any], key: str | None, why: str = "",
             timeout: float = 20) -> Attempt:
        what = f"POST {path} {body.get('amount', '')}".strip()
        note = f"(key {key[:8]})" if key else "(no key)" if self.naive else ""
        self.ctx.timeline.log("client", "request", " ".join(w for w in (what, note, why) if w))
        started = time.monotonic()
        headers = {"Idempotency-Key": key} if key else {}
        try:
            r = httpx.post(f"{self.ctx.target.client_url}{path}", json=body, headers=headers,
                           timeout=timeout, auth=self.ctx.stage.auth)
            body_out = r.json() if r.content else None
            attempt = Attempt(r.status_code, None, (time.monotonic() - started) * 1000, body_out,
                              r.headers.get("idempotent-replayed") == "true")
            self.ctx.timeline.log("client", "answer", f"← {attempt.summary()}")
        except httpx.TransportError as exc:
            attempt = Attempt(None, describe_error(exc), (time.monotonic() - started) * 1000)
            self.ctx.timeline.log("client", "error", f"✗ {attempt.summary()}")
        self.ctx.target.attempts.append(attempt)
        return attempt

    def _account(self, label: str = "alice") -> Any:
        return self.ctx.target.accounts[label]

    # --- the flows ------------------------------------------------------------------------------
    def top_up(self, amount: int) -> str:
        """A top-up of `amount`; returns our reference for it (the provider sees it too)."""
        if self.naive:
            a = self.post("/naive/topups", {"account_id": self._account(), "amount": amount}, None)
            return str(a.body["reference"])
        a = self.post("/payments", {"account_id": str(self._account()), "amount": amount,
                                    "currency": "EUR", "provider": "ledgerpay"}, new_key())
        return str(a.body["id"])

    def refund(self, reference: str) -> str:
        if self.naive:
            return str(self.post(f"/naive/topups/{reference}/refund", {}, None).body["reference"])
        return str(self.post(f"/payments/{reference}/refunds", {}, new_key()).body["id"])

    def payout(self, amount: int, key: str | None, destination: str = "account_ok",
               why: str = "") -> Attempt:
        body: dict[str, Any] = {"account_id": self._account(), "amount": amount,
                                "destination": destination}
        if self.naive:
            return self.post("/naive/payouts", body, None, why)
        return self.post("/payouts", {**body, "account_id": str(body["account_id"]),
                                      "currency": "EUR"}, key, why)

    # --- facts ----------------------------------------------------------------------------------
    def state(self, reference: str) -> str | None:
        if self.naive:
            rows = self.sql("SELECT state FROM naive_payments WHERE reference = %s", (reference,))
        else:
            rows = self.sql("SELECT state FROM payments WHERE id::text = %s UNION ALL SELECT state"
                            " FROM payouts WHERE id::text = %s", (reference, reference))
        return str(rows[0][0]) if rows else None

    def wait_state(self, reference: str, states: tuple[str, ...], timeout: float = 30) -> None:
        self.sim.wait_until(f"{reference[:8]} to be {' or '.join(states)}",
                            lambda: self.state(reference) in states, timeout)
        self.ctx.timeline.log("database", "fact", f"{reference[:8]} is {self.state(reference)}")

    def references(self) -> set[str]:
        """Everything this side's customer asked the provider for, as the provider names it."""
        account = self._account()
        if self.naive:
            rows = self.sql("SELECT reference FROM naive_payments WHERE account_id = %s",
                            (account,))
        else:
            rows = self.sql(" UNION ALL ".join(f"SELECT id::text FROM {t} WHERE account_id = %s"
                                               for t in PHASE_TABLES), (account,) * 3)
        return {str(r[0]) for r in rows}

    def provider_totals(self) -> dict[str, int]:
        """What the provider's settlement report says it did for this customer."""
        totals = {"charge": 0, "refund": 0, "payout": 0, "charges": 0, "payouts": 0}
        for line in self.sim.settlement(self.references()):
            totals[line["type"]] += line["amount"]
            totals[line["type"] + "s"] = totals.get(line["type"] + "s", 0) + 1
        return totals

    def rejections(self, reason: str = "forged") -> int:
        if self.naive:
            return 0
        rows = self.sql("SELECT coalesce(sum(count), 0) FROM webhook_rejections"
                        " WHERE reason = %s", (reason,))
        return int(rows[0][0])


def new_key() -> str:
    return str(uuid.uuid4())


# --- invariants -----------------------------------------------------------------------------------
def balance_is_provider_truth(ctx: Ctx, facts: LedgerFacts, pay: Pay,
                              label: str = "alice") -> Check:
    """The customer's balance moved by exactly what the provider really did: charges in,
    refunds and payouts out (its settlement report), once each."""
    p = pay.provider_totals()
    change = facts.balances[label] - ctx.start[label]
    truth = p["charge"] - p["refund"] - p["payout"]
    ctx.headline.update(provider=p, balance_change=change)
    detail = (f"{label} {change:+g}; provider: {p['charges']} charge(s) {p['charge']}, refunds "
              f"{p['refund']}, {p['payouts']} payout(s) {p['payout']} → should be {truth:+g}")
    return Check("the balance is what the provider did, once", change == truth, detail)


def charged_once(pay: Pay, amount: int) -> Check:
    p = pay.provider_totals()
    return Check("the customer was charged once at the provider",
                 p["charges"] == 1 and p["charge"] == amount,
                 f"settlement report: {p['charges']} charge(s) totalling {p['charge']}")


def ledger_balanced(pay: Pay) -> Check:
    """Phase only: the double-entry ledger sums to zero, holds included."""
    rows = pay.sql("SELECT currency, sum(posted), sum(pending_in) - sum(pending_out)"
                   " FROM ledger_accounts GROUP BY currency")
    off = [r for r in rows if r[1] != 0 or r[2] != 0]
    return Check("the ledger balances", not off, f"off: {off}" if off else "every currency sums to 0")


def holds_settled(pay: Pay) -> Check:
    """Every payout hold ended posted or voided: none left PENDING, none missing."""
    if pay.naive:
        return Check("every hold ends posted or voided", False,
                     "no hold at all: the balance was debited before the provider was asked")
    rows = pay.sql("SELECT t.status, count(*) FROM payouts p JOIN transfers t ON t.id = p.hold_id"
                   " WHERE p.account_id = %s GROUP BY t.status", (pay._account(),))
    counts = {str(s): int(n) for s, n in rows}
    return Check("every hold ends posted or voided", bool(counts) and "PENDING" not in counts,
                 ", ".join(f"{n} {s.lower()}" for s, n in counts.items()) or "no payout")
