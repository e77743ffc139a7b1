"""Client behaviours and small helpers the scenarios share."""

from __future__ import annotations

import time
import uuid

from fintech_core.drills import dbfaults, inject
from fintech_core.drills.drill import Ctx
from fintech_core.drills.wording import Attempt


def new_key() -> str:
    """What a correct client does once per *intent*, before the first attempt."""
    return str(uuid.uuid4())


def retry_until_definitive(ctx: Ctx, src: str, dst: str, amount: float, key: str,
                           *, timeout: float = 10.0, pause: float = 0.25,
                           deadline_s: float = 40.0, why: str = "") -> Attempt:
    """A patient client: the same request (same key) again after no answer, a 5xx or a 409,
    until a definitive answer or its deadline."""
    give_up = time.monotonic() + deadline_s
    attempt = ctx.target.transfer(src, dst, amount, key=key, timeout=timeout, why=why)
    while not attempt.definitive and time.monotonic() < give_up:
        time.sleep(pause)
        attempt = ctx.target.transfer(src, dst, amount, key=key, timeout=timeout,
                                      why=" (retry, same request)")
    return attempt


def wait_debited(ctx: Ctx, source: str) -> None:
    """Wait until the database shows the source debited: the request did reach the server."""
    inject.wait_for(f"{source} to be debited",
                    lambda: ctx.target.facts().balances[source] < ctx.start[source])
    ctx.timeline.log("database", "fact", f"{source} is debited: the request reached the server")


def settle(ctx: Ctx, since_ms: float, hold_ms: float, why: str) -> None:
    """Wait until a fault armed at `since_ms` (timeline time) and holding a request `hold_ms`
    has surely played out, so the ledger the drill reads is final."""
    left = since_ms + hold_ms + 300 - ctx.timeline.now_ms()
    if left > 0:
        ctx.timeline.log("drill", "note", f"waiting {left:.0f} ms: {why}")
        time.sleep(left / 1000)


def mid_transfer_visible(ctx: Ctx, source: str) -> str | None:
    """Evidence, from the database, that a transfer is half done right now. For the naive API
    a debit is the evidence: its fault point holds every request just after the debit."""
    if ctx.target.side == "naive":
        if ctx.target.facts().balances[source] < ctx.start[source]:
            return f"{source} is debited; the credit has not happened yet"
        return None
    if dbfaults.open_transactions(ctx.stage.database_url):
        return "the transfer's transaction is open: rows locked and changed, not committed"
    return None


def wait_mid_transfer(ctx: Ctx, source: str) -> None:
    evidence: list[str] = []

    def seen() -> bool:
        found = mid_transfer_visible(ctx, source)
        evidence.extend([found] if found else [])
        return found is not None

    inject.wait_for("a transfer to be half done", seen)
    ctx.timeline.log("database", "fact", evidence[-1])
