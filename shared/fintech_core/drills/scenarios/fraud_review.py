"""Phase 5, the review queue: a suspicious transfer waits for support's decision.

Naive: "flag and let it through": the money moves at once, bob spends it onward, and when
support rejects the transfer the reversal fails: the money is gone (naive/fraud_after.py).
Phase 5: a review is a phase-1 hold (PENDING): alice's funds are reserved, bob cannot spend
them, support's reject voids the hold (nothing moved) and an approve posts it exactly once (a
second approve is 409 review-not-open). Verdicts from `transfers`, `ledger_accounts`, balances.
"""

from __future__ import annotations

import uuid
from typing import Any

from fintech_core.drills import checks
from fintech_core.drills.drill import Ctx, Drill
from fintech_core.drills.ledger import LedgerFacts
from fintech_core.drills.report import Check
from fintech_core.drills.scenarios.auth_common import DRIVER
from fintech_core.drills.scenarios.fraud_common import FraudSide, deciding
from fintech_core.drills.wording import Attempt

# alice's usual: five payments of 800 to her grocer (minor units). Then 25000 to bob, twice:
# the first is new-beneficiary and far above her usual (v1: BIG_FIRST_TO_NEW_BENEFICIARY +
# AMOUNT_FAR_ABOVE_USUAL, score 90: review), the second still at least five times her new
# average (AMOUNT_FAR_ABOVE_USUAL: review). Neither is a mule's: far below 80 % of her funding.
USUAL, USUAL_N, SUSPICIOUS, FUNDING = 800, 5, 25_000, 100_000
SUPPORT = "sam"


def _decide(side: FraudSide, transfer_id: Any, decision: str, why: str = "") -> Attempt:
    prefix = "/naive/fraud" if side.naive else "/fraud"
    return side.call("POST", f"{prefix}/reviews/{transfer_id}/{decision}", SUPPORT,
                     key=uuid.uuid4().hex, why=why)


def _review(ctx: Ctx) -> None:
    side = ctx.kept["side"] = FraudSide(ctx)
    side.open("alice", "alice", FUNDING)
    side.open("bob", "bob", 0)
    side.open("grocer", DRIVER, 0)
    side.open("shop", DRIVER, 0)  # where bob spends it: it never comes back
    for i in range(USUAL_N):  # her history: what is usual for her
        FraudSide.ok(side.send("alice", "grocer", USUAL, "alice", why=f"{USUAL} alice→grocer "
                               f"(usual, #{i + 1})"), "alice's usual payments")
    first = side.send("alice", "bob", SUSPICIOUS, "alice", why=f"{SUSPICIOUS} alice→bob "
                      "(unusual: review)")
    ctx.kept["first"] = FraudSide.ok(first, "the first suspicious transfer")
    ctx.kept["reserved"] = _pending_out(side, "alice")
    ctx.kept["onward"] = side.send("bob", "shop", SUSPICIOUS, "bob", why=f"{SUSPICIOUS} "
                                   "bob→shop: bob spends it at once")
    if not side.naive:
        listed = side.call("GET", "/fraud/reviews?state=OPEN", SUPPORT, why="support's queue")
        ctx.kept["queued"] = [r.get("transfer_id") for r in listed.body or []
                              if isinstance(r, dict)]
    ctx.kept["reject"] = _decide(side, ctx.kept["first"]["id"], "reject",
                                 "support rejects the first")
    second = side.send("alice", "bob", SUSPICIOUS, "alice", why=f"{SUSPICIOUS} alice→bob again")
    ctx.kept["second"] = FraudSide.ok(second, "the second suspicious transfer")
    ctx.kept["approve"] = _decide(side, ctx.kept["second"]["id"], "approve",
                                  "support approves the second")
    ctx.kept["again"] = _decide(side, ctx.kept["second"]["id"], "approve",
                                "approve again (another support agent, a new key)")


def _pending_out(side: FraudSide, label: str) -> int | None:
    """Phase: what alice has reserved by open holds (ledger_accounts.pending_out)."""
    if side.naive:
        return None
    return int(side.sql("SELECT pending_out FROM ledger_accounts WHERE id = %s::uuid",
                        (str(side.ctx.target.accounts[label]),))[0][0])


def _statuses(side: FraudSide) -> tuple[str, str]:
    """Phase: the status of the first (rejected) and second (approved) transfer, by id."""
    out = []
    for which in ("first", "second"):
        [(status,)] = side.sql("SELECT status FROM transfers WHERE id = %s::uuid",
                               (str(side.ctx.kept[which]["id"]),))
        out.append(str(status))
    return out[0], out[1]


def _naive_outcome(side: FraudSide) -> str:
    rows = side.sql("SELECT state, outcome FROM naive_fraud_reviews WHERE transfer_id = %s",
                    (side.ctx.kept["first"]["id"],))
    return f"{rows[0][0]}, {rows[0][1]}" if rows else "no review"


def _check_review(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    side: FraudSide = ctx.kept["side"]
    reject, again = ctx.kept["reject"], ctx.kept["again"]
    lost = ctx.start["alice"] - facts.balances["alice"] - USUAL * USUAL_N
    ctx.headline.update(alice_lost=lost, spent_onward=facts.balances["shop"],
                        reject_status=reject.status)
    result = [
        Check("a rejected transfer moves nothing", lost == SUSPICIOUS and facts.balances["shop"] == 0,
              f"alice lost {lost:g} (only the approved {SUSPICIOUS} should leave); bob spent "
              f"{facts.balances['shop']:g} of it onward"),
        Check("support's reject is honoured", reject.succeeded,
              f"reject → {reject.summary()}" + (f"; review {_naive_outcome(side)}"
                                                if side.naive else "")),
    ]
    if not side.naive:
        first, second = _statuses(side)
        code = again.body.get("code") if isinstance(again.body, dict) else None
        ctx.headline.update(first=first, second=second, reserved=ctx.kept["reserved"])
        result += [
            Check("under review, alice's funds are reserved and bob cannot spend them",
                  ctx.kept["reserved"] == SUSPICIOUS and not ctx.kept["onward"].succeeded
                  and ctx.kept["first"]["id"] in ctx.kept["queued"],
                  f"first transfer {ctx.kept['first'].get('status')}, pending_out "
                  f"{ctx.kept['reserved']}, in support's queue; bob's spend → "
                  f"{ctx.kept['onward'].summary()}"),
            Check("reject voids the hold; approve posts it exactly once",
                  (first, second) == ("VOIDED", "COMPLETED") and again.status == 409
                  and code == "review-not-open" and _pending_out(side, "alice") == 0,
                  f"first {first}, second {second}; approve again → {again.summary()} ({code})"),
        ]
    return [*result, checks.conserved(ctx, facts)]


REVIEW_QUEUE = Drill(
    name="review-queue",
    title="A suspicious transfer goes to review",
    question="A rule says 'a human should look at this one'. What happens to the money while "
             "support looks, and when they say no?",
    fault=f"risk: alice, who usually pays {USUAL}, sends {SUSPICIOUS} to bob, twice; v1 sends "
          "both to review; bob spends what he gets at once",
    client="alice pays bob; bob spends it at a shop; support (sam) rejects the first transfer, "
           "approves the second, and a second agent approves it again",
    invariant="a rejected transfer moves nothing (the reject is honoured); under review the "
              "funds are reserved and unspendable; an approve posts exactly once",
    lesson="'Flag and let it through' makes review a post-mortem: by the time support says no, "
           "the money was spent onward and the reversal has nothing to take. A review is a "
           "hold: the funds are reserved, reject voids it, approve posts it once, and a hold "
           "nobody reviews expires.",
    play=_review,
    check=_check_review,
    api_flags=deciding("review-queue"),
)
