"""The invariants drills check, computed from `LedgerFacts` (the database), never from what the
client was told. Each returns a `Check` with the numbers behind its verdict.

A drill picks the ones its lesson is about; a later phase adds its own here (e.g. phase 1:
"the ledger balances", phase 2: "every committed transfer was published").
"""

from __future__ import annotations

from fintech_core.drills.drill import Ctx
from fintech_core.drills.ledger import LedgerFacts
from fintech_core.drills.report import Check


def _n(value: float) -> str:
    return f"{value:g}"


def moved(ctx: Ctx, facts: LedgerFacts, source: str | tuple[str, ...], amount: float,
          times: int = 1, binding: bool = True) -> Check:
    """The source(s) were debited exactly `times` × `amount` in all. Records `debits`."""
    sources = (source,) if isinstance(source, str) else source
    lost = sum(ctx.start[s] - facts.balances[s] for s in sources)
    debits = lost / amount
    ctx.headline["debits"] = int(debits) if debits == int(debits) else round(debits, 2)
    name = "money moved exactly once" if times == 1 else f"money moved exactly {times} times"
    who = sources[0] if len(sources) == 1 else " + ".join(sources)
    return Check(name, lost == amount * times,
                 f"{who} lost {_n(lost)} = {_n(debits)} × {_n(amount)}", binding)


def conserved(ctx: Ctx, facts: LedgerFacts) -> Check:
    before, after = sum(ctx.start.values()), facts.total
    if after == before:
        return Check("money conserved", True, f"total {_n(before)} before and after")
    change = "created" if after > before else "destroyed"
    return Check("money conserved", False,
                 f"total {_n(before)} → {_n(after)}: {_n(abs(after - before))} {change}")


def non_negative(ctx: Ctx, facts: LedgerFacts) -> Check:
    negative = {k: v for k, v in facts.balances.items() if v < 0}
    return Check("no negative balance", not negative,
                 ", ".join(f"{k} {_n(v)}" for k, v in negative.items()) or "all balances >= 0")


def reconciles(ctx: Ctx, facts: LedgerFacts) -> Check:
    """Every balance is explained by recorded transfers: 'what happened?' has an answer."""
    name = "every movement is recorded"
    if facts.recorded is None:
        return Check(name, False, "no transfer records: nobody can say what happened, or undo it")
    off = {k: (v, facts.recorded.get(k, 0.0)) for k, v in facts.balances.items()
           if v != facts.recorded.get(k, 0.0)}
    if off:
        return Check(name, False, "; ".join(f"{k}: balance {_n(b)} but recorded {_n(r)}"
                                            for k, (b, r) in off.items()))
    return Check(name, True, f"each balance equals the sum of its {facts.recorded_from}")
