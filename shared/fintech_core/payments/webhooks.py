"""Webhook ingestion: verify, dedupe, apply, and only then answer 2xx.

1. The signature is verified over the raw bytes before anything parses them (the adapter);
   a forged, stale or unreadable webhook is counted (its own small transaction) and refused
   with a 400 problem: nothing else changes.
2. The inbox row (provider, webhook id) is claimed in the same transaction as the effect: a
   duplicate delivery, even a concurrent one, waits on the first's row and then changes nothing.
3. The 2xx is sent after COMMIT: a crash before it makes the provider retry, and the retry finds
   either nothing (rolled back: it applies) or the inbox row (committed: a duplicate).
"""

from __future__ import annotations

from fintech_core.payments import effects
from fintech_core.payments.domain import ProviderStatus
from fintech_core.payments.errors import REJECTIONS
from fintech_core.payments.ports import ProviderObject, WebhookRejected
from fintech_core.payments.runtime import Runtime


async def count(rt: Runtime, provider: str, reason: str) -> None:
    async with rt.c.uow_factory() as uow:
        await effects.repo(uow).count_rejection(provider, reason)
        await uow.commit()


async def apply_once(rt: Runtime, provider: str, event_id: str, event_type: str,
                     obj: ProviderObject, source: str) -> str:
    """The inbox and the effect in one transaction; "duplicate" when the id was seen."""
    async with rt.c.uow_factory() as uow:
        r = effects.repo(uow)
        if not await r.claim_inbox(provider, event_id, event_type, obj.ref, obj.reference,
                                   source):
            return "duplicate"
        outcome = await effects.any_object(uow, rt.outbox, obj, source) or "unmatched"
        await r.inbox_outcome(provider, event_id, outcome)
        await uow.commit()
    return outcome


async def ingest(rt: Runtime, provider: str, headers: dict[str, str], body: bytes) -> str:
    adapter = rt.provider(provider)  # unknown-provider (404) before anything is counted
    try:
        event = adapter.verify_webhook(headers, body)
    except WebhookRejected as refused:
        await count(rt, provider, refused.reason)
        raise REJECTIONS[refused.reason](refused.detail, provider=provider) from refused
    outcome = await apply_once(rt, provider, event.webhook_id, event.event_type, event.obj,
                               "webhook")
    if outcome == "duplicate":
        await count(rt, provider, "duplicate")
    elif outcome == "applied" and event.obj.kind == "payout" and \
            event.obj.status is not ProviderStatus.PROCESSING:
        await rt.c.faults.hit("payout.posted")  # committed, the provider not yet answered
    return outcome
