"""Two requests at once: duplicate retries in flight together, and a race for the last funds."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from fintech_core.drills import checks, dbfaults, inject
from fintech_core.drills.drill import PER_REQUEST, Ctx, Drill
from fintech_core.drills.ledger import LedgerFacts
from fintech_core.drills.report import Check
from fintech_core.drills.scenarios.common import new_key, settle, wait_mid_transfer

HOLD_MS = 800


def _concurrent_retries(ctx: Ctx) -> None:
    ctx.open(alice=1000, bob=0)
    key = new_key()
    armed_at = ctx.timeline.now_ms()
    ctx.target.arm("mid-transfer", "delay", HOLD_MS)  # the first request is slow, still running
    ctx.target.transfer("alice", "bob", 100, key=key, timeout=0.3)
    wait_mid_transfer(ctx, "alice")  # so the retries really overlap the first attempt
    with ThreadPoolExecutor(2) as pool:  # the app retries while the user taps again
        both = list(pool.map(lambda i: ctx.target.transfer(
            "alice", "bob", 100, key=key, why=f" (concurrent retry {i})"), (1, 2)))
    if any(a.status == 409 for a in both):
        time.sleep(1.0)  # 409 means "still in flight, ask again shortly"
        ctx.target.transfer("alice", "bob", 100, key=key, why=" (after the 409s)")
    settle(ctx, armed_at, HOLD_MS, "the first request may still be running on the server")


CONCURRENT_RETRIES = Drill(
    name="concurrent-retries",
    title="Two retries with the same key while the first attempt is still running",
    question="The first attempt is slow; the client gives up and fires two retries at once. "
             "How many transfers happen?",
    fault=f"server: the first request is held {HOLD_MS} ms in the middle of the transfer "
          "(fault point); the client's 0.3 s timeout fires",
    client="sends two concurrent retries with the same request; after a 409 it asks once more",
    invariant="money moved exactly once; money conserved",
    lesson="While a key is in flight the phase answers 409 at once (an advisory lock held by "
           "the first transaction); afterwards it replays. The naive API runs all three.",
    play=_concurrent_retries,
    check=lambda ctx, f: [checks.moved(ctx, f, "alice", 100), checks.conserved(ctx, f)],
    # The 409 comes from the first request's transaction holding the key. With group commit the
    # held batch also holds the retries queued behind it, which then replay: no 409 to see.
    api_flags=PER_REQUEST,
)


def _last_funds(ctx: Ctx) -> None:
    ctx.open(alice=100, bob=0, carol=0)
    db, source = ctx.stage.database_url, ctx.target.accounts["alice"]
    with ThreadPoolExecutor(2) as pool:
        with dbfaults.row_locked(db, ctx.target.TABLE, source, ctx.timeline):
            sent = [pool.submit(ctx.target.transfer, "alice", to, 100, key=new_key())
                    for to in ("bob", "carol")]
            inject.wait_for("both requests to queue on the row", lambda: dbfaults.lock_waiters(db) >= 2)
            ctx.timeline.log("database", "fact", "both requests are waiting on the source row")
        for future in sent:
            future.result()


def _check_last_funds(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    paid = facts.balances["bob"] + facts.balances["carol"]
    ctx.headline["payouts"] = int(paid // 100)
    return [Check("at most the last 100 paid out", paid <= 100, f"bob + carol received {paid:g}"),
            checks.conserved(ctx, facts), checks.non_negative(ctx, facts)]


LAST_FUNDS = Drill(
    name="last-funds",
    title="Two transfers race for the last 100",
    question="Alice has 100 and two payments of 100 arrive together. Can both succeed?",
    fault="database: a batch job holds Alice's row for a moment, so both requests are in "
          "the window between the balance check and the debit at the same time",
    client="two different transfers (two keys), sent concurrently",
    invariant="at most 100 paid out; money conserved; no negative balance",
    lesson="Check-then-write outside a lock lets both pass the check. The phase locks the rows "
           "(SELECT ... FOR UPDATE) and checks inside the transaction: one 201, one 422.",
    play=_last_funds,
    check=_check_last_funds,
    # Two transactions must wait on the row together; with group commit the second request
    # waits in the process for the first one's batch instead, and the race is never run.
    api_flags=PER_REQUEST,
)
