"""Client behaviours and small helpers the scenarios share."""

from __future__ import annotations

import time
import uuid

from fintech_core.drills.drill import Ctx
from fintech_core.drills.wording import Attempt


def new_key() -> str:
    """What a correct client does once per *intent*, before the first attempt."""
    return str(uuid.uuid4())


def retry_until_definitive(ctx: Ctx, src: str, dst: str, amount: float, key: str,
                           *, timeout: float = 10.0, pause: float = 0.25,
                           deadline_s: float = 40.0) -> Attempt:
    """A patient client: the same request (same key) again after no answer, a 5xx or a 409,
    until a definitive answer or its deadline."""
    give_up = time.monotonic() + deadline_s
    attempt = ctx.target.transfer(src, dst, amount, key=key, timeout=timeout)
    while not attempt.definitive and time.monotonic() < give_up:
        time.sleep(pause)
        attempt = ctx.target.transfer(src, dst, amount, key=key, timeout=timeout,
                                      why=" (retry, same request)")
    return attempt


def settle(ctx: Ctx, until_ms: float, why: str) -> None:
    """Wait until a server-side fault has surely played out, so the ledger is final."""
    left = until_ms - ctx.timeline.now_ms()
    if left > 0:
        ctx.timeline.log("drill", "note", f"waiting {left:.0f} ms: {why}")
        time.sleep(left / 1000)
