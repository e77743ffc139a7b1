"""Reconciliation: the provider's settlement report of one day against our ledger.

Every line of the report (succeeded charges, refunds, paid payouts, whatever happened to their
webhooks) is matched by our reference:
- missing-in-ledger: the provider settled it, we did not (a lost webhook). Repaired by applying
  the line through the same inbox and effect as a webhook (inbox id `recon:<provider id>`), so a
  second run, or the webhook arriving late, changes nothing;
- amount-mismatch: both sides have it, for different amounts (listed, never auto-corrected);
- missing-at-provider: we settled it, the report does not have it;
- fee: what the provider kept (charges and payouts), per line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from fintech_core.payments.domain import ProviderStatus
from fintech_core.payments.effects import repo
from fintech_core.payments.ports import ProviderObject, SettlementLine
from fintech_core.payments.runtime import Runtime
from fintech_core.payments.webhooks import apply_once

KIND = {"charge": "payment", "refund": "refund", "payout": "payout"}
DONE = {"payment": ("SETTLED", "PARTIALLY_REFUNDED", "REFUNDED"), "refund": ("SETTLED",),
        "payout": ("SETTLED",)}


@dataclass(frozen=True)
class Finding:
    category: str  # matched, missing-in-ledger, amount-mismatch, missing-at-provider
    provider: str
    kind: str
    reference: str | None
    provider_ref: str | None
    provider_amount: int | None
    ledger_amount: int | None
    fee: int
    action: str  # none, repaired, unmatched


async def _line(rt: Runtime, provider: str, line: SettlementLine) -> Finding:
    kind = KIND[line.kind]
    async with rt.c.uow_factory() as uow:
        row = await repo(uow).by_reference(kind, line.reference) if line.reference else None
    base: dict[str, Any] = dict(provider=provider, kind=kind, reference=line.reference,
                                provider_ref=line.ref, provider_amount=line.amount, fee=line.fee)
    if row is None:
        return Finding("missing-in-ledger", ledger_amount=None, action="unmatched", **base)
    if row["state"] in DONE[kind]:
        category = "matched" if row["amount"] == line.amount else "amount-mismatch"
        return Finding(category, ledger_amount=row["amount"], action="none", **base)
    obj = ProviderObject(line.kind, line.ref, line.reference, ProviderStatus.SUCCEEDED,
                         line.amount, row["currency"])
    outcome = await apply_once(rt, provider, f"recon:{line.ref}", f"settlement.{line.kind}",
                               obj, "reconcile")
    return Finding("missing-in-ledger", ledger_amount=row["amount"],
                   action="repaired" if outcome == "applied" else outcome, **base)


async def _ours(rt: Runtime, provider: str, day: date) -> list[dict[str, Any]]:
    """What we settled on `day` (UTC) through `provider`, by the history's SETTLED row."""
    async with rt.c.uow_factory() as uow:
        cur = await uow.extension("payments").conn.execute(
            "SELECT h.resource_type, h.resource_id::text, x.amount, x.provider_ref"
            " FROM payment_state_history h JOIN (SELECT id, amount, provider_ref, provider"
            "  FROM payments UNION ALL SELECT id, amount, provider_ref, provider FROM refunds"
            "  UNION ALL SELECT id, amount, provider_ref, provider FROM payouts) x"
            "  ON x.id = h.resource_id"
            " WHERE h.to_state = 'SETTLED' AND x.provider = %s"
            " AND (h.at AT TIME ZONE 'UTC')::date = %s", (provider, day))
        return [dict(zip(("kind", "reference", "amount", "provider_ref"), r, strict=True))
                for r in await cur.fetchall()]


async def reconcile(rt: Runtime, day: date, providers: list[str]) -> list[Finding]:
    findings: list[Finding] = []
    for provider in providers:
        lines = await rt.provider(provider).settlement(day)
        for line in lines:
            findings.append(await _line(rt, provider, line))
        reported = {line.reference for line in lines}
        findings += [Finding("missing-at-provider", provider, o["kind"], o["reference"],
                             o["provider_ref"], None, o["amount"], 0, "none")
                     for o in await _ours(rt, provider, day) if o["reference"] not in reported]
    return findings


def as_dicts(findings: list[Finding]) -> list[dict[str, Any]]:
    return [asdict(f) for f in findings]
