"""`stripeish`: a Stripe-shaped provider. Payment intents instead of charges, lower-case
currencies, `metadata.reference`, and webhooks signed `Stripe-Signature: t=<unix>,v1=<hex>`
(HMAC-SHA256 of "{t}.{body}"; one v1 per live secret during a rotation; 300 s tolerance).

Nothing of this leaks past the port: the service sees the same ProviderObject and ProviderEvent
as for ledgerpay, so the ledger side is identical for both.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import date
from typing import Any

import orjson

from fintech_core.payments.adapters.http import ProviderHttp
from fintech_core.payments.adapters.shapes import settlement_lines
from fintech_core.payments.credentials import CredentialStore
from fintech_core.payments.domain import ProviderStatus
from fintech_core.payments.ports import (
    ObjectKind,
    ProviderEvent,
    ProviderObject,
    SettlementLine,
    WebhookRejected,
)

NAME = "stripeish"
_STATUS = {"succeeded": ProviderStatus.SUCCEEDED, "paid": ProviderStatus.SUCCEEDED,
           "requires_payment_method": ProviderStatus.FAILED, "failed": ProviderStatus.FAILED,
           "canceled": ProviderStatus.FAILED, "processing": ProviderStatus.PROCESSING,
           "pending": ProviderStatus.PROCESSING, "in_transit": ProviderStatus.PROCESSING}
_KIND: dict[str, ObjectKind] = {"pi": "charge", "re": "refund", "po": "payout"}
INSTRUMENTS = {"card_ok": "pm_card_ok", "card_declined": "pm_card_declined"}
DESTINATIONS = {"account_ok": "ba_ok", "account_closed": "ba_closed"}


def to_object(data: Mapping[str, Any]) -> ProviderObject:
    ref = str(data["id"])
    error = data.get("last_payment_error") or {}
    failure = (error.get("code") if isinstance(error, dict) else None) or data.get("failure_code")
    return ProviderObject(_KIND[ref.split("_", 1)[0]], ref,
                          (data.get("metadata") or {}).get("reference"),
                          _STATUS[data["status"]], int(data["amount"]),
                          str(data.get("currency", "")).upper(), failure)


def parse_signature_header(header: str) -> tuple[int, list[str]]:
    timestamp, signatures = None, []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise ValueError("Stripe-Signature needs t= and at least one v1=")
    return timestamp, signatures


def expected_signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


class Stripeish:
    name = NAME

    def __init__(self, base_url: str, credentials: CredentialStore, timeout_ms: int,
                 tolerance_seconds: int = 300) -> None:
        self.credentials, self.tolerance = credentials, tolerance_seconds
        self.http = ProviderHttp(base_url, credentials.get().api_key, timeout_ms)

    async def charge(self, key: str, reference: str, amount: int, currency: str,
                     instrument: str) -> ProviderObject:
        return to_object(await self.http.post("/stripeish/v1/payment_intents", key, {
            "amount": amount, "currency": currency.lower(), "metadata": {"reference": reference},
            "payment_method": INSTRUMENTS[instrument]}))

    async def find_charge(self, reference: str) -> ProviderObject | None:
        return await self._find("/stripeish/v1/payment_intents", reference)

    async def refund(self, key: str, reference: str, charge_ref: str,
                     amount: int) -> ProviderObject:
        return to_object(await self.http.post("/stripeish/v1/refunds", key, {
            "payment_intent": charge_ref, "amount": amount,
            "metadata": {"reference": reference}}))

    async def payout(self, key: str, reference: str, amount: int, currency: str,
                     destination: str) -> ProviderObject:
        return to_object(await self.http.post("/stripeish/v1/payouts", key, {
            "amount": amount, "currency": currency.lower(), "metadata": {"reference": reference},
            "destination": DESTINATIONS[destination]}))

    async def find_payout(self, reference: str) -> ProviderObject | None:
        return await self._find("/stripeish/v1/payouts", reference)

    async def _find(self, path: str, reference: str) -> ProviderObject | None:
        body = await self.http.get(path, {"reference": reference})
        found = (body or {}).get("data") or []
        return to_object(found[0]) if found else None

    async def settlement(self, day: date) -> list[SettlementLine]:
        return settlement_lines(await self.http.get(f"/stripeish/v1/settlements/{day.isoformat()}"))

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        header = {k.lower(): v for k, v in headers.items()}.get("stripe-signature", "")
        try:
            timestamp, given = parse_signature_header(header)
        except ValueError as exc:
            raise WebhookRejected("forged", str(exc)) from exc
        # The signature first, over the raw bytes; the body is parsed only once it verified.
        if not (self._matches(timestamp, given, body, self.credentials.get().webhook_secrets)
                or self._matches(timestamp, given, body,
                                 self.credentials.reload().webhook_secrets)):  # rotated?
            raise WebhookRejected("forged", "no v1 signature matches a secret we hold")
        if abs(time.time() - timestamp) > self.tolerance:
            raise WebhookRejected("stale", f"t={timestamp} is outside the {self.tolerance} s "
                                           "tolerance")
        try:
            event = orjson.loads(body)
            return ProviderEvent(str(event["id"]), str(event["type"]),
                                 to_object(event["data"]["object"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise WebhookRejected("malformed", f"verified but unreadable: {exc!r}") from exc

    @staticmethod
    def _matches(timestamp: int, given: list[str], body: bytes, secrets: tuple[str, ...]) -> bool:
        return any(hmac.compare_digest(expected_signature(s, timestamp, body), g)
                   for s in secrets for g in given)

    async def close(self) -> None:
        await self.http.close()
