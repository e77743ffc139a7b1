"""Phase 5's transfer-pipeline steps: decide before the money moves, keep the decision.

    ... check_ledger, check_amount_limits, check_fraud, post_ledger, ..., record_fraud_decision

`check_fraud` is the last check: it runs after the locks, the ledger plan and the limits, so the
engine only ever decides (and its windows only count) transfers that would otherwise go through,
and a refusal still leaves nothing written (checks precede effects, transfers/pipeline.py).
- allow: nothing changes;
- review: the transfer becomes a phase-1 hold (PENDING) expiring after the review ttl. The entry
  is rebuilt as two-phase and re-planned on the rows `lock_accounts` already locked: a hold
  touches the same ledger accounts as the movement, so no new lock is taken. Holds are between
  two accounts: a withdrawal under review is declined, a deposit under review goes through
  (both keep their decision);
- block: `Declined`, which the transfer service records as a FAILED transfer-declined.
The engine never touches the transaction's connection (fraud/engine.py).

`record_fraud_decision` is a *record* step: it also runs for a transfer a check refused, and
writes the decision only when the engine decided (a transfer refused for funds never reached it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fintech_core.domain.errors import Declined
from fintech_core.fraud.engine import RESOURCE, FraudEngine
from fintech_core.fraud.model import Attempt, Decision, Verdict
from fintech_core.ledger import entries, planning
from fintech_core.ledger.steps import HoldRequest, LedgerWork, ledger_of
from fintech_core.transfers.origin import Origin
from fintech_core.transfers.pipeline import Append, Change, InsertBefore, Step, TransferContext

EXTENSION = "fraud"


@dataclass
class FraudWork:
    """The fraud part of a transfer's context, from the check to the record step."""

    live: Decision | None = None
    shadow: Decision | None = None
    decided_at: datetime | None = None
    review_ttl_seconds: int | None = None  # set when the transfer became a hold under review


def attempt_of(ctx: TransferContext, at: datetime) -> Attempt:
    cmd = ctx.command
    origin = ctx.part(Origin) if ctx.has(Origin) else Origin()
    return Attempt(ctx.transfer_id, cmd.kind.value, cmd.source_id, cmd.destination_id,
                   cmd.amount, cmd.currency, at, ctx.principal, origin.client_ip,
                   origin.device_id, origin.caller_kind or "user")


async def hold_for_review(ctx: TransferContext, ttl_seconds: int) -> int:
    """Turn the transfer into a hold (or shorten an existing hold's expiry to the ttl); return
    the hold's expiry in seconds."""
    work = ctx.part(LedgerWork)
    if work.hold is not None:  # already a hold (POST /holds): the review ends when it does
        held = work.hold.timeout_seconds
        ttl = ttl_seconds if held is None else min(held, ttl_seconds)
        work.hold = HoldRequest(ttl)
        return ttl
    work.hold = HoldRequest(ttl_seconds)
    work.entry = entries.for_command(ctx.transfer_id, ctx.command, two_phase=True)
    work.plan = await planning.plan(ledger_of(ctx), work.entry, work.locked)
    return ttl_seconds


async def check_fraud(ctx: TransferContext) -> None:
    engine: FraudEngine = ctx.resource(RESOURCE)
    at = datetime.now(UTC)
    attempt = attempt_of(ctx, at)
    live, shadow = await engine.decide(attempt)
    work = ctx.part(FraudWork)
    work.live, work.shadow, work.decided_at = live, shadow, at
    if live.verdict is Verdict.BLOCK:
        raise Declined("the transfer was declined by the risk checks",
                       transfer_id=str(ctx.transfer_id))
    if live.verdict is Verdict.REVIEW:
        cmd = ctx.command
        if cmd.source_id is not None and cmd.destination_id is None:
            # A phase-1 hold is between two accounts: money leaving the lab cannot wait in
            # one, and a review exists to keep it from leaving, so it is declined.
            raise Declined("the withdrawal was declined by the risk checks",
                           transfer_id=str(ctx.transfer_id))
        if cmd.source_id is not None:
            work.review_ttl_seconds = await hold_for_review(ctx, engine.review_ttl_seconds)
        # A deposit (money coming in, no paying account to hold it from) is recorded as
        # reviewed and goes through: refusing a teller's cash-in protects no one's money.
    if live.fallback is None:  # a fallen-back engine is unhealthy: do not pay it twice
        await engine.learn(attempt)


async def record_fraud_decision(ctx: TransferContext) -> None:
    work = ctx.parts.get(FraudWork)
    if work is None or work.live is None or work.decided_at is None:
        return
    fraud = ctx.uow.extension(EXTENSION)
    await fraud.add_decision(ctx.transfer_id, work.live, work.shadow, work.decided_at)
    if work.review_ttl_seconds is not None and ctx.part(LedgerWork).two_phase:
        await fraud.open_review(ctx.transfer_id, work.review_ttl_seconds)


CHECK_STEP = Step("check_fraud", "check", check_fraud)
RECORD_STEP = Step("record_fraud_decision", "record", record_fraud_decision)
TRANSFER_STEPS: tuple[Change, ...] = (InsertBefore("post_ledger", CHECK_STEP), Append(RECORD_STEP))
