"""Phase 5, the fraud check's time budget: the engine is slow (the drills' knob
FINCORE_FRAUD_ENGINE_DELAY_MS), a customer pays, and the client gives up after two seconds.

Naive: the check has no budget (naive/fraud.py waits for the engine), the client times out, and
the money moves anyway once the engine answers: the database says when, on its own clock, after
the client gave up. Phase 5: the budget cuts the wait, the fallback verdict applies and is
counted (`fraud_decisions.fallback`), the client gets its answer in time.
"""

from __future__ import annotations

import contextlib
from typing import Any

from fintech_core.drills import checks, inject
from fintech_core.drills.drill import Ctx, Drill
from fintech_core.drills.ledger import LedgerFacts
from fintech_core.drills.report import Check
from fintech_core.drills.scenarios.fraud_common import FraudSide
from fintech_core.drills.wording import Attempt

SLOW_MS = 5000  # the engine's answer time, far above the phase's budget (20 ms by default)
CLIENT_TIMEOUT_S = 2.0  # a loaded 2-core box answers a budgeted transfer far inside it
AMOUNT = 2500  # minor units


def _slow(ctx: Ctx) -> None:
    side = ctx.kept["side"] = FraudSide(ctx)
    side.open("alice", "alice", 100_000)
    side.open("bob", "bob", 0)
    ctx.timeline.log("drill", "note", f"the fraud engine answers in {SLOW_MS} ms today; the "
                     f"client waits {CLIENT_TIMEOUT_S:g} s")
    sent = side.send("alice", "bob", AMOUNT, "alice", timeout=CLIENT_TIMEOUT_S)
    ctx.kept.update(sent=sent, gave_up=None if sent.answered else side.db_now())
    if not sent.answered:  # the server may still be at it: let the database say what happened
        ctx.timeline.log("client", "note", "alice gave up: she does not know whether she paid")
        with contextlib.suppress(TimeoutError):  # nothing moved: the check says so
            inject.wait_for("the abandoned transfer to settle",
                            lambda: side.moved_out("alice")[0] > 0, timeout=SLOW_MS / 1000 + 10)


def _moved_after(side: FraudSide, gave_up: Any) -> list[float]:
    """Milliseconds after the client gave up at which money left alice (database clock)."""
    account = side.ctx.target.accounts["alice"]
    table, column = (("naive_fraud_transfers", "from_id") if side.naive else ("transfers",
                     "source_id"))
    done = "moved" if side.naive else "status = 'COMPLETED' AND kind = 'TRANSFER'"
    rows = side.sql(f"SELECT extract(epoch FROM created_at - %s) * 1000 FROM {table}"
                    f" WHERE {column} = %s AND {done} AND created_at > %s",
                    (gave_up, account if side.naive else str(account), gave_up))
    return [float(r[0]) for r in rows]


def _fallbacks(side: FraudSide) -> list[tuple[str, str | None]]:
    """Phase: (verdict, fallback) of the decisions stored for alice's transfers."""
    return [(str(v), f) for v, f in side.sql(
        "SELECT d.verdict, d.fallback FROM fraud_decisions d JOIN transfers t"
        " ON t.id = d.transfer_id WHERE t.source_id = %s::uuid",
        (str(side.ctx.target.accounts["alice"]),))]


def _check_slow(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    side: FraudSide = ctx.kept["side"]
    sent: Attempt = ctx.kept["sent"]
    count, total = side.moved_out("alice")
    late = _moved_after(side, ctx.kept["gave_up"]) if ctx.kept["gave_up"] else []
    ctx.headline.update(answered=sent.answered, client_ms=round(sent.ms), moved=total,
                        moved_after_giving_up=len(late))
    told = f"the client: {sent.summary()}"
    result = [
        Check("the client gets its answer within its timeout", sent.succeeded,
              f"{told} (timeout {CLIENT_TIMEOUT_S * 1000:.0f} ms)"),
        Check("no money moves after the client gave up", not late,
              f"{AMOUNT} left alice {late[0]:.0f} ms after the client gave up (database clock)"
              if late else f"{told}; {count} transfer(s) moved {total}"),
    ]
    if not side.naive:
        decided = _fallbacks(side)
        ctx.headline["fallbacks"] = [f for _, f in decided]
        result.append(Check(
            "the budget cut the wait: the fallback applied and is counted",
            sent.succeeded and any(f == "budget-exceeded" for _, f in decided),
            "fraud_decisions: " + (", ".join(f"{v} (fallback {f})" for v, f in decided)
                                   or "none")))
    return [*result, checks.conserved(ctx, facts)]


SLOW_FRAUD_CHECK = Drill(
    name="slow-fraud-check",
    title="The fraud engine is slow and every payment waits for it",
    question="The fraud engine takes 5 seconds today. What does a customer paying now see, and "
             "did her money move?",
    fault=f"dependency: the fraud engine answers in {SLOW_MS} ms (FINCORE_FRAUD_ENGINE_DELAY_MS, "
          "drill mode); the phase's budget is FINCORE_FRAUD_BUDGET_MS (20 ms by default)",
    client=f"alice sends {AMOUNT} to bob and waits {CLIENT_TIMEOUT_S:g} s, then gives up",
    invariant="the client hears the outcome in time; no money moves after it gave up; a decision "
              "past its budget applies the fallback and is recorded as such",
    lesson="A check on the request path needs a budget, and a decision about what happens when "
           "it runs out. Without one the payment waits for the slowest dependency, the client "
           "gives up, and the money moves anyway behind its back. With one, the fallback (allow "
           "here) applies and is counted in fraud_decisions, so timeouts are seen, not hidden.",
    play=_slow,
    check=_check_slow,
    api_flags={"fraud_engine_delay_ms": SLOW_MS},
)
