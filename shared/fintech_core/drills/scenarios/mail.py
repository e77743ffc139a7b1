"""A slow, failing mail server: on the request path (naive) or off it (phase)."""

from __future__ import annotations

from fintech_core.drills import checks
from fintech_core.drills.drill import Ctx, Drill
from fintech_core.drills.ledger import LedgerFacts
from fintech_core.drills.report import Check
from fintech_core.drills.scenarios.common import new_key

MAIL_MS = 600


def _slow_mail(ctx: Ctx) -> None:
    ctx.open(alice=1000, bob=0)
    ctx.timeline.log("api", "fault", f"this API's mail server takes {MAIL_MS} ms, then refuses")
    key = new_key()
    for n in range(2):  # an error is an error: the client tries once more
        if ctx.target.transfer("alice", "bob", 100, key=key, timeout=3,
                               why=" (retry after an error)" if n else "").succeeded:
            break


def _check(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    moved = ctx.start["alice"] - facts.balances["alice"] > 0
    told = any(a.succeeded for a in ctx.target.attempts)
    slowest = max(a.ms for a in ctx.target.attempts)
    ctx.headline["slowest_ms"] = round(slowest)
    return [checks.moved(ctx, facts, "alice", 100),
            Check("the client was told the truth", told == moved,
                  f"client told {'success' if told else 'failure'}; the ledger says money "
                  f"{'moved' if moved else 'did not move'}")]


SLOW_MAIL = Drill(
    name="slow-mail",
    title="A slow, failing mail server on the request path",
    question="The receipt email is slow and then fails. Does the transfer wait for it? "
             "Does it fail, after the money moved?",
    fault=f"dependency: the mail server takes {MAIL_MS} ms, then refuses (an API started with "
          "FINCORE_MAIL_LATENCY_MS and FINCORE_MAIL_FAIL)",
    client="treats an error as a failure and tries once more",
    invariant="money moved exactly once; the client was told the truth",
    lesson="Anything slow or fallible that is not the money (email, push, metrics) belongs on "
           "the async path. The naive API reports failure after moving money, twice.",
    play=_slow_mail,
    check=_check,
    api_flags={"mail_latency_ms": MAIL_MS, "mail_fail": True},
)
