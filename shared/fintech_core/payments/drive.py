"""Talking to the provider for one resource, outside any transaction (an HTTP call never holds
a database connection or a row lock), then recording the answer in a transaction of its own.

The request path runs `drive` right after creating the resource; the worker runs it again for a
resource whose driver died (crash, kill) or whose answer never came (UNKNOWN). Every call, first
or resumed, sends the key derived from our id (domain.provider_key): the provider acts once.

Crash points (faults.py; drills arm them in the API process):
  payment.provider_answered  the provider charged and answered; nothing recorded yet
  payout.hold_placed         the hold is committed; the provider is not called yet
  payout.provider_called     the provider acted and answered; nothing recorded yet
  payout.provider_answered   the answer is committed; the hold is not posted or voided yet
  payout.posted              the hold is posted or voided and committed (the saga is done)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from fintech_core.payments import effects
from fintech_core.payments.domain import ProviderStatus, State
from fintech_core.payments.ports import (
    ProviderObject,
    ProviderRefused,
    ProviderTimeout,
    ProviderUnavailable,
)
from fintech_core.payments.runtime import Runtime

Row = dict[str, Any]
# Declared by the phase (Phase.fault_points); drills arm them in the API process.
FAULT_POINTS = {
    "payment.provider_answered": "the provider charged and answered; nothing recorded yet",
    "payout.hold_placed": "the payout and its hold are committed; the provider is not called",
    "payout.provider_called": "the provider acted and answered; nothing recorded yet",
    "payout.provider_answered": "the provider's answer is committed; the hold is not settled",
    "payout.posted": "the hold is posted or voided and committed; the saga is done",
}
UNSURE = (ProviderTimeout, ProviderUnavailable)


def backoff(rt: Runtime, attempts: int) -> datetime:
    s = rt.c.settings
    delay = min(s.payments_poll_base_seconds * 2 ** attempts, s.payments_poll_max_seconds)
    return datetime.now(UTC) + timedelta(seconds=delay)


async def _load(rt: Runtime, kind: str, resource_id: UUID) -> Row | None:
    async with rt.c.uow_factory() as uow:
        return await effects.repo(uow).get(kind, resource_id)  # type: ignore[no-any-return]


async def _unsure(rt: Runtime, kind: str, row: Row, op: str, started: datetime,
                  exc: Exception, cause: str) -> None:
    """No answer: record the attempt, move PENDING to UNKNOWN, schedule a status poll."""
    async with rt.c.uow_factory() as uow:
        r = effects.repo(uow)
        fresh = await r.get(kind, row["id"], lock=True)
        await r.attempt(kind, row["id"], op, row["provider_key"], "timeout", None, str(exc), started)
        fields: Row = {"attempts": fresh["attempts"] + 1, "lease_until": None,
                       "next_check_at": backoff(rt, fresh["attempts"])}
        if fresh["state"] == State.PENDING.value:
            fields |= {"state": State.UNKNOWN.value, "cause": cause}
        await r.update(kind, row["id"], fields)
        await uow.commit()


async def _answered(rt: Runtime, kind: str, row: Row, op: str, started: datetime,
                    obj: ProviderObject | None, cause: str, apply: bool) -> None:
    async with rt.c.uow_factory() as uow:
        r = effects.repo(uow)
        await r.attempt(kind, row["id"], op, row["provider_key"],
                        "answered" if obj else "not-found", obj.status.value if obj else None,
                        obj.ref if obj else None, started)
        if obj is not None and apply:
            if kind == "payment":
                await effects.payment(uow, rt.outbox, row["id"], obj, cause, op == "poll")
            elif kind == "refund":
                await effects.refund(uow, rt.outbox, row["id"], obj, cause)
            else:
                await effects.payout(uow, rt.outbox, row["id"], obj, cause)
        await uow.commit()


async def drive_payment(rt: Runtime, payment_id: UUID, cause: str = "api") -> None:
    row = await _load(rt, "payment", payment_id)
    if row is None or row["state"] not in (State.PENDING, State.UNKNOWN):
        return
    provider, started = rt.provider(row["provider"]), datetime.now(UTC)
    try:
        if row["state"] == State.UNKNOWN:  # ask before acting again
            found = await provider.find_charge(str(payment_id))
            await _answered(rt, "payment", row, "poll", started, found, "poll", True)
            if found is not None:
                return
            started = datetime.now(UTC)
        obj = await provider.charge(row["provider_key"], str(payment_id), row["amount"],
                                    row["currency"], row["instrument"])
    except UNSURE as exc:
        await _unsure(rt, "payment", row, "create", started, exc, cause)
        return
    except ProviderRefused:
        obj = ProviderObject("charge", "-", str(payment_id), ProviderStatus.FAILED, row["amount"],
                             row["currency"], "provider-refused")
    await rt.c.faults.hit("payment.provider_answered")
    await _answered(rt, "payment", row, "create", started, obj, cause, True)


async def drive_refund(rt: Runtime, refund_id: UUID, cause: str = "api") -> None:
    row = await _load(rt, "refund", refund_id)
    if row is None or row["state"] not in (State.PENDING, State.UNKNOWN):
        return
    paid = await _load(rt, "payment", row["payment_id"])
    assert paid is not None
    started = datetime.now(UTC)
    try:
        # Re-sent with the same key when UNKNOWN: the provider replays its answer if it acted.
        obj = await rt.provider(row["provider"]).refund(
            row["provider_key"], str(refund_id), paid["provider_ref"], row["amount"])
    except UNSURE as exc:
        await _unsure(rt, "refund", row, "create", started, exc, cause)
        return
    except ProviderRefused:
        obj = ProviderObject("refund", "-", str(refund_id), ProviderStatus.FAILED, row["amount"],
                             row["currency"], "provider-refused")
    await _answered(rt, "refund", row, "create", started, obj, cause, True)


async def drive_payout(rt: Runtime, payout_id: UUID, cause: str = "api") -> None:
    """The payout saga from wherever it stopped: HOLD_PLACED -> (provider) -> PROVIDER_ANSWERED
    -> HOLD_POSTED | HOLD_VOIDED. Each arrow is its own committed step."""
    row = await _load(rt, "payout", payout_id)
    if row is None or row["state"] in (State.SETTLED, State.FAILED):
        return
    provider, started = rt.provider(row["provider"]), datetime.now(UTC)
    try:
        if row["state"] != State.PENDING or row["attempts"] > 0:
            obj = await provider.find_payout(str(payout_id))  # UNKNOWN, AUTHORIZED: ask
            await _answered(rt, "payout", row, "poll", started, obj, "poll", True)
            if obj is not None or row["state"] != State.UNKNOWN:
                await _reschedule(rt, payout_id)
                return
            started = datetime.now(UTC)
        obj = await provider.payout(row["provider_key"], str(payout_id), row["amount"],
                                    row["currency"], row["destination"])
    except UNSURE as exc:
        await _unsure(rt, "payout", row, "create", started, exc, cause)
        return
    except ProviderRefused:
        obj = ProviderObject("payout", "-", str(payout_id), ProviderStatus.FAILED, row["amount"],
                             row["currency"], "provider-refused")
    await rt.c.faults.hit("payout.provider_called")
    await _record_answer(rt, row, started, obj, cause)
    await rt.c.faults.hit("payout.provider_answered")
    if obj.status is not ProviderStatus.PROCESSING:
        async with rt.c.uow_factory() as uow:
            await effects.payout(uow, rt.outbox, payout_id, obj, cause)
            await uow.commit()
        await rt.c.faults.hit("payout.posted")


async def _record_answer(rt: Runtime, row: Row, started: datetime, obj: ProviderObject,
                         cause: str) -> None:
    """Saga step PROVIDER_ANSWERED: the answer, committed before the hold is touched."""
    async with rt.c.uow_factory() as uow:
        r = effects.repo(uow)
        fresh = await r.get("payout", row["id"], lock=True)
        await r.attempt("payout", row["id"], "create", row["provider_key"], "answered",
                        obj.status.value, obj.ref, started)
        fields: Row = {"provider_ref": obj.ref, "attempts": fresh["attempts"] + 1,
                       "next_check_at": backoff(rt, fresh["attempts"] + 1)}
        if fresh["step"] == "HOLD_PLACED":
            fields["step"] = "PROVIDER_ANSWERED"
            await r.step(row["id"], "PROVIDER_ANSWERED", f'{{"status": "{obj.status.value}"}}')
        target = {ProviderStatus.PROCESSING: State.AUTHORIZED,
                  ProviderStatus.SUCCEEDED: State.CAPTURED}.get(obj.status)
        if target is not None and fresh["state"] in (State.PENDING, State.UNKNOWN):
            fields |= {"state": target.value, "cause": cause}
        await r.update("payout", row["id"], fields)
        await uow.commit()


async def _reschedule(rt: Runtime, payout_id: UUID) -> None:
    async with rt.c.uow_factory() as uow:
        r = effects.repo(uow)
        fresh = await r.get("payout", payout_id, lock=True)
        if fresh["state"] not in (State.SETTLED, State.FAILED):
            await r.update("payout", payout_id, {"attempts": fresh["attempts"] + 1,
                                                 "lease_until": None,
                                                 "next_check_at": backoff(rt, fresh["attempts"])})
        await uow.commit()
