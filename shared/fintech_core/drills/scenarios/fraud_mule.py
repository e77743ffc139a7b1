"""Phase 5, a mule account: money comes in and goes straight out to a first-time beneficiary.

Naive: only the async rules look (the baseline's nightly job, `/naive/fraud/scan`): the account
is flagged after the money left, and the drill shows what that cost (the amount that left before
the flag, from the database's timestamps). Phase 5: v1's sync mule rule blocks the out-transfer
(422 transfer-declined, recorded FAILED), and the money is still in the account to return.
"""

from __future__ import annotations

from fintech_core.drills import checks
from fintech_core.drills.drill import Ctx, Drill
from fintech_core.drills.ledger import LedgerFacts
from fintech_core.drills.report import Check
from fintech_core.drills.scenarios.auth_common import DRIVER
from fintech_core.drills.scenarios.fraud_common import FraudSide, deciding
from fintech_core.drills.wording import Attempt

# What alice is tricked into paying the mule (minor units), and what it sends on at once: above
# v1's floor (50000 in within the hour) and under 80 % of what alice herself was paid in, so her
# own payment is no mule's.
MULE_AMOUNT = 90_000


def _mule(ctx: Ctx) -> None:
    # The baseline's request path has no rule at all: only the nightly job looks.
    side = ctx.kept["side"] = FraudSide(ctx, naive_path="/naive/fraud/unchecked-transfers")
    side.open("alice", "alice", 200_000)
    side.open("mule", "bob", 0)          # bob rents his account out: the mule
    side.open("cashout", DRIVER, 0)      # the fraudster's account elsewhere, never paid before
    paid = side.send("alice", "mule", MULE_AMOUNT, "alice", why=f"{MULE_AMOUNT} alice→mule "
                     "(she was told it is the deposit for a flat)")
    FraudSide.ok(paid, "alice pays the mule")
    out = side.send("mule", "cashout", MULE_AMOUNT, "bob", why=f"{MULE_AMOUNT} mule→cashout, "
                    "straight out to a first-time beneficiary")
    ctx.kept["out"] = out
    if side.naive:  # the only rule that would catch it runs later, as a batch
        scanned = side.call("POST", "/naive/fraud/scan", "the nightly job",
                            why="(the async rules: in, then straight out to someone new)")
        ctx.kept["flagged"] = (scanned.body or {}).get("flagged", [])


def _left_before_flag(side: FraudSide) -> tuple[int, str]:
    """Naive: (amount that left the mule before it was flagged, when it was flagged)."""
    mule = side.ctx.target.accounts["mule"]
    rows = side.sql(
        "SELECT coalesce(sum(t.amount) FILTER (WHERE t.created_at < f.flagged_at"
        " OR f.flagged_at IS NULL), 0), coalesce(max(f.reason), 'never flagged'),"
        " max(extract(epoch FROM f.flagged_at - t.created_at) * 1000)"
        " FROM naive_fraud_transfers t LEFT JOIN naive_fraud_flags f ON f.account_id = t.from_id"
        " WHERE t.from_id = %s AND t.moved", (mule,))
    left, reason, ms = rows[0]
    flagged = f"flagged {reason} {float(ms):.0f} ms after it left" if ms is not None else reason
    return int(left), flagged


def _declined(side: FraudSide) -> int:
    """Phase: out-transfers of the mule recorded FAILED as transfer-declined."""
    return int(side.sql("SELECT count(*) FROM transfers WHERE kind = 'TRANSFER'"
                        " AND status = 'FAILED' AND failure_code = 'transfer-declined'"
                        " AND source_id = %s::uuid",
                        (str(side.ctx.target.accounts["mule"]),))[0][0])


def _check_mule(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    side: FraudSide = ctx.kept["side"]
    out: Attempt = ctx.kept["out"]
    count, left = side.moved_out("mule")
    mule_now = facts.balances["mule"]
    ctx.headline.update(left_the_mule=left, still_in_mule=mule_now, out_status=out.status)
    result = [Check("nothing leaves the mule account", left == 0,
                    f"{count} out-transfer(s) moved {left} to cashout; the mule holds {mule_now:g}")]
    if side.naive:
        before, flagged = _left_before_flag(side)
        ctx.headline.update(left_before_flag=before)
        result.append(Check("what the async rules cost", True, f"{before} left before the "
                            f"account was flagged ({flagged})", binding=False))
    else:
        declined = _declined(side)
        code = out.body.get("code") if isinstance(out.body, dict) else None
        result += [
            Check("the out-transfer is declined and recorded FAILED",
                  out.status == 422 and code == "transfer-declined" and declined == 1,
                  f"the client: {out.summary()} ({code}); {declined} FAILED transfer-declined "
                  "row(s)"),
            Check("the money is still there to return", mule_now == MULE_AMOUNT,
                  f"the mule holds {mule_now:g} of the {MULE_AMOUNT} it received"),
        ]
    return [*result, checks.conserved(ctx, facts)]


MULE_ASYNC_ONLY = Drill(
    name="mule-async-only",
    title="A mule account passes money straight on and only the async rules look",
    question="Money lands in an account and leaves it a second later for someone it never paid. "
             "Which rule stops it, and when?",
    fault=f"attacker: alice pays {MULE_AMOUNT} to a mule account (bob's), and the mule sends it "
          "straight on to a first-time beneficiary",
    client="alice pays the mule; bob forwards the money at once; then the async rules run",
    invariant="nothing leaves the mule account: the out-transfer is declined (422 "
              "transfer-declined, a FAILED transfer), the money is still there to return",
    lesson="Async rules see more, but they see it after the money left: in-then-out is a "
           "pattern the request path must catch itself, with a cheap feature (what came in "
           "this hour, is the beneficiary new). The async side then freezes and reports.",
    play=_mule,
    check=_check_mule,
    api_flags=deciding("mule-async-only"),
)
