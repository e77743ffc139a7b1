"""Phase 3, pay-ins: the provider times out after charging, and its webhooks come three times,
out of order, forged, or never. Money comes in from outside, so each verdict compares the
customer's balance with the provider's settlement report (what it really charged, whatever its
webhooks did) and, for the phase, with the ledger.
"""

from __future__ import annotations

from fintech_core.drills.drill import Ctx, Drill
from fintech_core.drills.ledger import LedgerFacts
from fintech_core.drills.provider import reconcile
from fintech_core.drills.report import Check
from fintech_core.drills.scenarios.payments_common import (
    Pay,
    balance_is_provider_truth,
    charged_once,
    ledger_balanced,
)

AMOUNT = 100


def _settled(ctx: Ctx, pay: Pay, reference: str, copies: int = 1) -> None:
    """Wait until the provider's webhooks for `reference` are done and the phase settled it."""
    if not pay.naive:
        pay.wait_state(reference, ("SETTLED",))
    pay.sim.wait_delivered([reference], copies)


def _common(ctx: Ctx, facts: LedgerFacts) -> tuple[Pay, list[Check]]:
    pay: Pay = ctx.kept["pay"]
    checks = [balance_is_provider_truth(ctx, facts, pay)]
    return pay, checks + ([] if pay.naive else [ledger_balanced(pay)])


# --- 1. the provider times out after it charged --------------------------------------------------
def _timeout_after(ctx: Ctx) -> None:
    ctx.open(alice=0)
    pay = ctx.kept["pay"] = Pay(ctx)
    pay.sim.knobs("the next charge succeeds, then its answer never comes", timeout="after",
                  hang_ms=4000, times=1)
    reference = pay.top_up(AMOUNT)
    _settled(ctx, pay, reference)


PROVIDER_TIMEOUT_AFTER_CHARGE = Drill(
    name="provider-timeout-after-charge",
    title="The provider charges the card, then its answer times out",
    question="Our call to the provider timed out. Did it charge the card? May we call again?",
    fault="provider: the charge succeeds and its webhook is sent, then the HTTP answer hangs "
          "past our 2 s timeout (simulator knob timeout=after)",
    client="tops up 100 once; the naive server retries the provider with a new key, the phase "
           "records UNKNOWN and asks (status poll) with the same key",
    invariant="the customer was charged once at the provider; credited exactly once",
    lesson="A timeout is not a failure: the provider may have acted. A new key is a new charge. "
           "Phase 3 keeps its key, marks the payment UNKNOWN and lets a verified fact decide.",
    play=_timeout_after,
    check=lambda ctx, f: [charged_once(ctx.kept["pay"], AMOUNT), *_common(ctx, f)[1]],
)


# --- 2. one webhook, delivered three times --------------------------------------------------------
def _thrice(ctx: Ctx) -> None:
    ctx.open(alice=0)
    pay = ctx.kept["pay"] = Pay(ctx)
    ctx.kept["duplicates_before"] = pay.rejections("duplicate")
    pay.sim.knobs("deliver the next charge's webhook 1 + 2 times", duplicate_deliveries=2, times=1)
    _settled(ctx, pay, pay.top_up(AMOUNT), copies=3)


def _check_thrice(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    pay, checks = _common(ctx, facts)
    if not pay.naive:
        dupes = pay.rejections("duplicate") - ctx.kept["duplicates_before"]
        checks.append(Check("the two repeats are counted as duplicates", dupes == 2,
                            f"{dupes} duplicate deliveries counted"))
        ctx.headline["duplicates"] = dupes
    return checks


WEBHOOK_DELIVERED_THRICE = Drill(
    name="webhook-delivered-thrice",
    title="The provider delivers the same webhook three times",
    question="The provider says 'at least once'. What does the second delivery of a "
             "charge.succeeded do?",
    fault="provider: each delivery of the charge's webhook is repeated twice, same webhook id "
          "(simulator knob duplicate_deliveries=2)",
    client="tops up 100 once",
    invariant="credited exactly once (the balance is what the provider did)",
    lesson="At-least-once delivery means duplicates by design. An inbox keyed by the webhook id, "
           "written in the effect's transaction, turns the second and third into no-ops.",
    play=_thrice,
    check=_check_thrice,
)


# --- 3. webhooks out of order ---------------------------------------------------------------------
def _out_of_order(ctx: Ctx) -> None:
    ctx.open(alice=0)
    pay = ctx.kept["pay"] = Pay(ctx)
    pay.sim.knobs("hold every webhook, deliver them later newest first", reorder=True)
    reference = pay.top_up(AMOUNT)
    if pay.naive:
        ctx.timeline.log("drill", "note", "the naive baseline has no reconciliation to run")
    else:  # the webhook is late: the day's settlement report is the verified fact
        found = [f for f in reconcile(ctx.stage) if f["reference"] == reference]
        ctx.timeline.log("database", "fact", "reconciliation: " + ", ".join(
            f"{f['category']} → {f['action']}" for f in found))
        pay.wait_state(reference, ("SETTLED",))
    refund = pay.refund(reference)
    if not pay.naive:
        pay.wait_state(reference, ("REFUNDED",))
    pay.sim.reset("the provider releases its held webhooks: charge.refunded, then "
                  "charge.succeeded")
    pay.sim.wait_delivered([reference, refund], 2)
    ctx.kept["reference"] = reference


def _check_out_of_order(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    pay, checks = _common(ctx, facts)
    state = pay.state(ctx.kept["reference"]) or "-"
    ctx.headline["state"] = state
    checks.append(Check("a state never moves backwards", state.upper() == "REFUNDED",
                        f"the top-up ends {state} (the provider says refunded)"))
    return checks


WEBHOOKS_OUT_OF_ORDER = Drill(
    name="webhooks-out-of-order",
    title="The refund's webhook arrives before the charge's",
    question="charge.succeeded arrives after charge.refunded. Does the top-up come back to life?",
    fault="provider: webhooks held, then delivered newest first (simulator knob reorder)",
    client="tops up 100, then refunds it; the phase's top-up is settled by reconciliation "
           "meanwhile (the naive baseline has none)",
    invariant="the balance is what the provider did (charged 100, refunded 100: 0); the top-up "
              "ends REFUNDED",
    lesson="Events carry no order. A state machine that only moves forward makes an old event "
           "a no-op: succeeded after refunded changes nothing.",
    play=_out_of_order,
    check=_check_out_of_order,
)


# --- 4. a webhook with a signature we cannot verify -----------------------------------------------
def _forged(ctx: Ctx) -> None:
    ctx.open(alice=0)
    pay = ctx.kept["pay"] = Pay(ctx)
    pay.sim.knobs("sign the next charge's webhook with a secret we never shared",
                  wrong_signature=True, times=1)
    reference = pay.top_up(AMOUNT)
    pay.sim.wait_until("the webhook's first delivery", lambda: any(
        d["attempts"] for d in pay.sim.deliveries(reference)))
    if not pay.naive:
        pay.sim.wait_until("the refusal to be counted",
                           lambda: pay.rejections() > pay.rejected_before)
    ctx.kept["reference"] = reference


def _check_forged(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    pay: Pay = ctx.kept["pay"]
    change = facts.balances["alice"] - ctx.start["alice"]
    counted = pay.rejections() - pay.rejected_before
    ctx.headline.update(credited=change, refused=counted)
    checks = [Check("an unverified webhook moves no money", change == 0,
                    f"alice {change:+g} from a webhook no secret of ours signed"),
              Check("the forgery is refused and counted", counted > 0,
                    f"{counted} refused as forged" if not pay.naive else "nothing checks")]
    return checks + ([] if pay.naive else [ledger_balanced(pay)])


FORGED_SIGNATURE = Drill(
    name="forged-signature",
    title="A webhook arrives with a signature we cannot verify",
    question="Anyone can POST to /webhooks. What stops a forged 'charge.succeeded'?",
    fault="provider: the charge's webhook is signed with a secret we never shared (simulator "
          "knob wrong_signature); it keeps retrying",
    client="tops up 100 once",
    invariant="an unverified webhook moves no money; it is refused (400) and counted",
    lesson="Verify the signature over the raw body before reading it. A forged event changes "
           "nothing; the real charge is found later by a verified path (reconciliation).",
    play=_forged,
    check=_check_forged,
)


# --- 5. a webhook that never arrives ---------------------------------------------------------------
def _lost(ctx: Ctx) -> None:
    ctx.open(alice=0)
    pay = ctx.kept["pay"] = Pay(ctx)
    pay.sim.knobs("record the next charge's webhook but never deliver it",
                  lose_webhooks=True, times=1)
    reference = pay.top_up(AMOUNT)
    pay.sim.wait_delivered([reference], 1)
    if pay.naive:
        ctx.timeline.log("drill", "note", "the naive baseline has no reconciliation to run")
        return
    runs = []
    for n in (1, 2):  # the second run must find nothing left to do
        mine = [f for f in reconcile(ctx.stage) if f["reference"] == reference]
        runs.append([f["action"] for f in mine])
        ctx.timeline.log("database", "fact", f"reconciliation run {n}: " + ", ".join(
            f"{f['category']} → {f['action']}" for f in mine))
    ctx.kept["runs"] = runs


def _check_lost(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    pay, checks = _common(ctx, facts)
    if not pay.naive:
        runs = ctx.kept["runs"]
        checks.append(Check("reconciliation repairs it once", runs == [["repaired"], ["none"]],
                            f"run 1: {runs[0]}, run 2: {runs[1]}"))
    return checks


LOST_WEBHOOK = Drill(
    name="lost-webhook",
    title="The provider charges, and its webhook never arrives",
    question="The provider took the money and we never heard. Who notices, and how is it fixed "
             "without crediting twice?",
    fault="provider: the charge's webhook is recorded but never delivered (simulator knob "
          "lose_webhooks); it is in the day's settlement report",
    client="tops up 100 once; the phase then runs reconciliation twice",
    invariant="credited exactly once, by reconciliation, however often it runs",
    lesson="Webhooks are a notification, not the truth. The settlement report is; reconciling "
           "against it through the same inbox repairs the loss once.",
    play=_lost,
    check=_check_lost,
)
