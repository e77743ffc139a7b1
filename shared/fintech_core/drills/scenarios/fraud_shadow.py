"""Phase 5, a new rule set straight to live: ruleset v2 (the candidate) live, or in shadow.

Both sides run with FINCORE_FRAUD_SHADOW_RULES=v2. The naive baseline has no shadow mode: the
candidate it is given goes live (naive/fraud.py). Phase 5 keeps v1 live and evaluates v2 beside
it, recording what v2 would have done without acting on it (`./fcl fraud shadow-report`).
Two good customers, alice and bob, have an ordinary day of payments; the verdict is the share of
their transfers held for review or declined, read from the database.
"""

from __future__ import annotations

from fintech_core.drills import checks
from fintech_core.drills.drill import Ctx, Drill
from fintech_core.drills.ledger import LedgerFacts
from fintech_core.drills.report import Check
from fintech_core.drills.scenarios.auth_common import DRIVER
from fintech_core.drills.scenarios.fraud_common import FraudSide, deciding

CANDIDATE = "v2"
PAYEES = ("grocer", "friend")
# An ordinary day of two good customers (who, payee, amount in minor units): everyday sums that
# vary as spending does, to two payees each (a third new payee within the hour is a v1 review
# signal). v2's amount rule (1.5 x the account's average, from three transfers of history) holds
# the larger ones; v1's (5 x, from five) holds none.
GOOD_DAY = (
    ("alice", "grocer", 4200), ("alice", "grocer", 3800), ("alice", "friend", 2500),
    ("alice", "grocer", 6100), ("alice", "grocer", 3900), ("alice", "friend", 7000),
    ("bob", "grocer", 5200), ("bob", "grocer", 4800), ("bob", "friend", 3000),
    ("bob", "grocer", 8000), ("bob", "friend", 2000), ("bob", "grocer", 4400),
)


def _day(ctx: Ctx) -> None:
    side = ctx.kept["side"] = FraudSide(ctx)
    side.open("alice", "alice", 100_000)
    side.open("bob", "bob", 100_000)
    for payee in PAYEES:
        side.open(payee, DRIVER, 0)
    ctx.timeline.log("drill", "note", f"the candidate rule set {CANDIDATE} is deployed ("
                     + ("live: the baseline has no shadow mode)" if side.naive else
                        "in shadow: v1 stays live)"))
    ctx.kept["sent"] = [side.send(who, payee, amount, who, why=f"{amount} {who}→{payee}")
                        for who, payee, amount in GOOD_DAY]


def _held(side: FraudSide) -> dict[str, int]:
    """Live verdicts of the customers' transfers, from the database: status counts (phase) or
    the baseline's recorded verdicts (naive)."""
    ids = [side.ctx.target.accounts[w] for w in ("alice", "bob")]
    if side.naive:
        rows = side.sql("SELECT verdict, count(*) FROM naive_fraud_transfers"
                        " WHERE from_id = ANY(%s) GROUP BY verdict", (ids,))
        names = {"allow": "COMPLETED", "review": "FLAGGED FOR REVIEW", "block": "DECLINED"}
        return {names[str(v)]: int(n) for v, n in rows}
    rows = side.sql("SELECT status, count(*) FROM transfers WHERE kind = 'TRANSFER'"
                    " AND source_id = ANY(%s::uuid[]) GROUP BY status", ([str(i) for i in ids],))
    return {str(s): int(n) for s, n in rows}


def _shadow(side: FraudSide) -> dict[str, int]:
    """Phase: what the candidate would have decided, per verdict (shadow decisions)."""
    ids = [str(side.ctx.target.accounts[w]) for w in ("alice", "bob")]
    rows = side.sql("SELECT d.shadow_verdict, count(*) FROM fraud_decisions d JOIN transfers t"
                    " ON t.id = d.transfer_id WHERE t.source_id = ANY(%s::uuid[])"
                    " AND d.shadow_ruleset = %s GROUP BY d.shadow_verdict", (ids, CANDIDATE))
    return {str(v): int(n) for v, n in rows}


def _check_day(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    side: FraudSide = ctx.kept["side"]
    by_status = _held(side)
    total = sum(by_status.values())
    held = total - by_status.get("COMPLETED", 0)
    share = round(100 * held / total) if total else 0
    ctx.headline.update(transfers=total, held=held, held_percent=share)
    shown = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
    result = [Check("no good customer is sent to review or declined",
                    held == 0 and total == len(GOOD_DAY),
                    f"{held} of {total} good customers' transfers ({share}%) sent to review or "
                    f"declined ({shown})")]
    if not side.naive:
        shadow = _shadow(side)
        flagged = sum(n for v, n in shadow.items() if v != "allow")
        ctx.headline.update(shadow=shadow)
        result += [
            Check(f"every decision records what {CANDIDATE} would have done",
                  sum(shadow.values()) == total,
                  f"{sum(shadow.values())} shadow decisions of {CANDIDATE} for {total} transfers"),
            Check(f"what {CANDIDATE} would have held", True,
                  f"{flagged} of {total} ({round(100 * flagged / total) if total else 0}%): "
                  + (", ".join(f"{n} {v}" for v, n in sorted(shadow.items())) or "none")
                  + "; `./fcl fraud shadow-report` tells the same per rule", binding=False),
        ]
    return [*result, checks.conserved(ctx, facts)]


RULE_STRAIGHT_TO_LIVE = Drill(
    name="rule-straight-to-live",
    title="A new rule set goes straight to live",
    question="The fraud team wrote a stricter rule set and it looks right on paper. What happens "
             "to good customers the day it goes live?",
    fault=f"configuration: the candidate rule set {CANDIDATE} is deployed "
          f"(FINCORE_FRAUD_SHADOW_RULES={CANDIDATE}); the baseline has no shadow mode",
    client=f"alice and bob, two good customers, make {len(GOOD_DAY)} ordinary payments "
           "(groceries, a friend)",
    invariant="no good customer is held or declined by a rule set nobody measured; every "
              "decision records what the candidate would have done",
    lesson="A rule set is code that decides about people's money: measure it before it acts. "
           "In shadow it sees live traffic and acts on nothing; the shadow report counts what it "
           "would have held, and the backtest its precision, before anyone promotes it.",
    play=_day,
    check=_check_day,
    api_flags={"fraud_shadow_rules": CANDIDATE, **deciding("rule-straight-to-live")},
)
