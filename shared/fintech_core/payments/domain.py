"""The payment state machine: pay-ins, payouts and refunds share it. Pure: no I/O.

    PENDING -> UNKNOWN | AUTHORIZED | CAPTURED | SETTLED | FAILED
    UNKNOWN -> AUTHORIZED | CAPTURED | SETTLED | FAILED    (the call timed out: ask, never guess)
    AUTHORIZED -> CAPTURED | SETTLED | FAILED               (the provider accepted, is processing)
    CAPTURED -> SETTLED                                     (the provider said yes; not yet posted)
    SETTLED -> PARTIALLY_REFUNDED | REFUNDED                (money is in the ledger)
    PARTIALLY_REFUNDED -> REFUNDED ; FAILED and REFUNDED are final.

It never moves backwards, so events may arrive in any order: a `succeeded` webhook that arrives
after the refund, or a timed-out call's UNKNOWN recorded after the webhook settled the payment,
changes nothing. The same table is enforced by a trigger (p3_0001, `payments_allowed`).
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    PENDING = "PENDING"
    UNKNOWN = "UNKNOWN"
    AUTHORIZED = "AUTHORIZED"
    CAPTURED = "CAPTURED"
    SETTLED = "SETTLED"
    FAILED = "FAILED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"


S = State
TRANSITIONS: dict[State, frozenset[State]] = {
    S.PENDING: frozenset({S.UNKNOWN, S.AUTHORIZED, S.CAPTURED, S.SETTLED, S.FAILED}),
    S.UNKNOWN: frozenset({S.AUTHORIZED, S.CAPTURED, S.SETTLED, S.FAILED}),
    S.AUTHORIZED: frozenset({S.CAPTURED, S.SETTLED, S.FAILED}),
    S.CAPTURED: frozenset({S.SETTLED}),
    S.SETTLED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.REFUNDED}),
}
FINAL = frozenset({S.FAILED, S.REFUNDED})
# States in which the provider still owes us an answer: the worker polls these.
OPEN = frozenset({S.PENDING, S.UNKNOWN, S.AUTHORIZED, S.CAPTURED})


def can_move(current: State, target: State) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


class ProviderStatus(StrEnum):
    """What a provider says about an object, in our words (each adapter translates its own)."""

    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def target_of(status: ProviderStatus, *, verified: bool) -> State:
    """The state a provider fact leads to. Only a verified fact (a signed webhook, a status poll,
    the settlement report) may settle a pay-in; the synchronous answer to our create call says
    CAPTURED, and the money waits for the fact that confirms it."""
    if status is ProviderStatus.FAILED:
        return S.FAILED
    if status is ProviderStatus.PROCESSING:
        return S.AUTHORIZED
    return S.SETTLED if verified else S.CAPTURED


def provider_key(kind: str, resource_id: object) -> str:
    """The Idempotency-Key we send the provider for one payment, payout or refund: derived from
    our id, never minted per attempt, so a retry after a timeout or a crash cannot act twice."""
    return f"fcl-{kind}-{resource_id}"
