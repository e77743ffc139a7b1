"""The payments worker (`fcl payments worker`, started by `up` from phase 3): resumes what a
request left unfinished and asks the provider about what it never answered.

- payouts in any open state: a saga that died after HOLD_PLACED is driven on with the same
  provider key; UNKNOWN and AUTHORIZED ones are polled (with backoff) until paid or failed, so a
  hold always ends posted or voided;
- pay-ins PENDING (the request died before the provider answered) or UNKNOWN (the call timed
  out): polled by reference, re-sent with the *same* key only when the provider has nothing;
- refunds PENDING or UNKNOWN: re-sent with the same key (the provider replays its answer).

Leases (payments.lease_until) keep it off resources a live request is driving, and SKIP LOCKED
keeps two workers off the same row. Pay-ins AUTHORIZED/CAPTURED are left to their webhook; a
lost one is found by reconciliation, which is the lesson of that drill.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

from fintech_core.payments.drive import drive_payment, drive_payout, drive_refund
from fintech_core.payments.effects import repo
from fintech_core.payments.runtime import Runtime, lease_seconds

log = logging.getLogger(__name__)

WORK = (("payout", ("PENDING", "UNKNOWN", "AUTHORIZED", "CAPTURED"), drive_payout),
        ("payment", ("PENDING", "UNKNOWN"), drive_payment),
        ("refund", ("PENDING", "UNKNOWN"), drive_refund))


async def tick(rt: Runtime, limit: int = 20) -> int:
    """One pass over every kind of due work; returns how many resources it drove."""
    s, done = rt.c.settings, 0
    for kind, states, drive in WORK:
        async with rt.c.uow_factory() as uow:
            due: list[UUID] = await repo(uow).claim_due(kind, states, limit,
                                                        lease_seconds(s))
            await uow.commit()
        for resource_id in due:
            try:
                await drive(rt, resource_id, "worker")
            except Exception:  # one resource's failure never stops the others; retried later
                log.exception("payments worker: %s %s failed; retried after its lease",
                              kind, resource_id)
            done += 1
    return done


async def run_forever(rt: Runtime) -> None:
    interval = rt.c.settings.payments_worker_interval_seconds
    while True:
        try:
            await tick(rt)
        except Exception:  # the database restarting, say: keep going
            log.exception("payments worker pass failed")
        await asyncio.sleep(interval)
