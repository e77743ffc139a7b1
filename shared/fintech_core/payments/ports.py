"""The one port every provider sits behind. The service, the ledger side and the tables speak
only these types; a provider's paths, envelopes, status words and signature scheme stay in its
adapter (adapters/ledgerpay.py, adapters/stripeish.py).

What the port promises, whichever provider:
- every create carries *our* idempotency key: the same key and body never act twice;
- an answer that did not arrive in time is `ProviderTimeout`: the provider may or may not have
  acted, so the caller records UNKNOWN and asks later (find_*), never re-sends with a new key;
- `verify_webhook` checks the signature over the raw bytes *before* parsing them, and the
  timestamp against the tolerance; anything else raises `WebhookRejected`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

from fintech_core.payments.domain import ProviderStatus

ObjectKind = Literal["charge", "refund", "payout"]


@dataclass(frozen=True)
class ProviderObject:
    kind: ObjectKind
    ref: str  # the provider's id (ch_..., pi_..., re_..., po_...)
    reference: str | None  # ours: the payment, refund or payout id we sent
    status: ProviderStatus
    amount: int
    currency: str
    failure_code: str | None = None


@dataclass(frozen=True)
class ProviderEvent:
    webhook_id: str  # the provider's event id: the inbox key
    event_type: str  # as the provider names it (charge.succeeded, payment_intent.succeeded...)
    obj: ProviderObject


@dataclass(frozen=True)
class SettlementLine:
    kind: ObjectKind
    ref: str
    reference: str | None
    amount: int
    fee: int
    net: int
    status: str
    occurred_at: str


class ProviderError(Exception):
    pass


class ProviderTimeout(ProviderError):
    """No answer in time (or the connection dropped mid-request): the provider may have acted."""


class ProviderUnavailable(ProviderError):
    """Could not reach the provider or it answered 5xx/409-in-flight: ask again later."""


class ProviderRefused(ProviderError):
    """A definite 4xx refusal (e.g. refund over the charge): the provider did not act."""


class WebhookRejected(Exception):
    def __init__(self, reason: Literal["forged", "stale", "malformed"], detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


class PaymentProvider(Protocol):
    name: str

    async def charge(self, key: str, reference: str, amount: int, currency: str,
                     instrument: str) -> ProviderObject: ...
    async def find_charge(self, reference: str) -> ProviderObject | None: ...
    async def refund(self, key: str, reference: str, charge_ref: str,
                     amount: int) -> ProviderObject: ...
    async def payout(self, key: str, reference: str, amount: int, currency: str,
                     destination: str) -> ProviderObject: ...
    async def find_payout(self, reference: str) -> ProviderObject | None: ...
    async def settlement(self, day: date) -> list[SettlementLine]: ...
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent: ...
    async def close(self) -> None: ...
