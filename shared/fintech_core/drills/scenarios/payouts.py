"""Phase 3, payouts: the API dies between reserving the money and calling the provider, and the
provider declines a payout it had accepted. The phase runs a saga (hold → provider → post or
void, each step committed and resumable by the payments worker); the naive baseline debits,
then calls, and has nothing to finish or undo what it started.
"""

from __future__ import annotations

from fintech_core.drills import inject
from fintech_core.drills.drill import Ctx, Drill
from fintech_core.drills.ledger import LedgerFacts
from fintech_core.drills.report import Check
from fintech_core.drills.scenarios.payments_common import (
    Pay,
    balance_is_provider_truth,
    holds_settled,
    ledger_balanced,
    new_key,
)

AMOUNT = 100


def _finish(ctx: Ctx, pay: Pay, final: tuple[str, ...]) -> None:
    """Wait for every payout of this side to end (phase: its state; both: its webhooks)."""
    references = sorted(pay.references())
    if not pay.naive:
        for reference in references:
            pay.wait_state(reference, final, timeout=40)
    pay.sim.wait_delivered(references, 1, timeout=40)  # a crashed request never reached it


def _checks(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    pay: Pay = ctx.kept["pay"]
    checks = [balance_is_provider_truth(ctx, facts, pay), holds_settled(pay)]
    return checks + ([] if pay.naive else [ledger_balanced(pay)])


def _crash(ctx: Ctx) -> None:
    ctx.open(alice=1000)
    pay = ctx.kept["pay"] = Pay(ctx)
    ctx.target.arm("payout-before-provider", "crash")
    key = new_key()
    pay.payout(AMOUNT, key)
    inject.restart_api(ctx.stage, ctx.timeline)
    pay.payout(AMOUNT, key, why="(retry, same request)")
    _finish(ctx, pay, ("SETTLED", "FAILED"))


CRASH_BETWEEN_HOLD_AND_PROVIDER = Drill(
    name="crash-between-hold-and-provider-call",
    title="The API dies after reserving a payout's money, before calling the provider",
    question="The process died between 'money reserved' and 'provider called'. Who finishes "
             "the payout, and is the money ever stuck or sent twice?",
    fault="server: the API process exits (os._exit at a fault point) after the payout's first "
          "step (phase: the hold committed; naive: the balance debited)",
    client="sees the connection die, waits for the API to come back, retries the same request",
    invariant="the balance is what the provider paid out, once; the hold ends posted or voided",
    lesson="Two systems cannot share a transaction. A saga commits each step and its "
           "compensation; the worker resumes it with the same provider key, so it finishes once.",
    play=_crash,
    check=_checks,
)


def _declined(ctx: Ctx) -> None:
    ctx.open(alice=1000)
    pay = ctx.kept["pay"] = Pay(ctx)
    pay.payout(AMOUNT, new_key(), destination="account_closed",
               why="(to a closed bank account)")
    _finish(ctx, pay, ("FAILED",))


PAYOUT_DECLINED = Drill(
    name="payout-declined",
    title="The provider accepts a payout, then it fails",
    question="The bank account was closed: the payout fails after the provider accepted it. "
             "Where is the customer's money?",
    fault="provider: the payout is pending, then fails (account closed) and says so by webhook",
    client="asks for one payout of 100 to a closed account",
    invariant="the balance is what the provider paid out (nothing): the funds are back",
    lesson="A failure after acceptance needs a compensation: the hold is voided in the "
           "transaction that records the failure, so the funds come back exactly once.",
    play=_declined,
    check=_checks,
)
