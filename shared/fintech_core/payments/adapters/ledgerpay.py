"""`ledgerpay`: a provider that signs its webhooks with Standard Webhooks.

Headers `webhook-id`, `webhook-timestamp`, `webhook-signature` ("v1,<base64>" space-separated,
one per live secret, which is how a key rotation never drops a webhook). The `standardwebhooks`
package verifies them over the raw body, with its fixed 5-minute tolerance (the contract's
`provider_webhook_tolerance_seconds`, 300).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

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

NAME = "ledgerpay"
_STATUS = {"succeeded": ProviderStatus.SUCCEEDED, "paid": ProviderStatus.SUCCEEDED,
           "failed": ProviderStatus.FAILED, "pending": ProviderStatus.PROCESSING}
_KIND: dict[str, ObjectKind] = {"ch": "charge", "re": "refund", "po": "payout"}
INSTRUMENTS = {"card_ok": "card_ok", "card_declined": "card_declined"}
DESTINATIONS = {"account_ok": "iban_ok", "account_closed": "iban_closed"}


def to_object(data: Mapping[str, Any]) -> ProviderObject:
    ref = str(data["id"])
    return ProviderObject(_KIND[ref.split("_", 1)[0]], ref, data.get("reference"),
                          _STATUS[data["status"]], int(data["amount"]),
                          str(data.get("currency", "")).upper(), data.get("failure_code"))


class LedgerPay:
    name = NAME

    def __init__(self, base_url: str, credentials: CredentialStore, timeout_ms: int) -> None:
        self.credentials = credentials
        self.http = ProviderHttp(base_url, credentials.get().api_key, timeout_ms)

    async def charge(self, key: str, reference: str, amount: int, currency: str,
                     instrument: str) -> ProviderObject:
        return to_object(await self.http.post("/ledgerpay/v1/charges", key, {
            "amount": amount, "currency": currency, "reference": reference,
            "source": INSTRUMENTS[instrument]}))

    async def find_charge(self, reference: str) -> ProviderObject | None:
        return await self._find("/ledgerpay/v1/charges", reference)

    async def refund(self, key: str, reference: str, charge_ref: str,
                     amount: int) -> ProviderObject:
        return to_object(await self.http.post("/ledgerpay/v1/refunds", key, {
            "charge": charge_ref, "amount": amount, "reference": reference}))

    async def payout(self, key: str, reference: str, amount: int, currency: str,
                     destination: str) -> ProviderObject:
        return to_object(await self.http.post("/ledgerpay/v1/payouts", key, {
            "amount": amount, "currency": currency, "reference": reference,
            "destination": DESTINATIONS[destination]}))

    async def find_payout(self, reference: str) -> ProviderObject | None:
        return await self._find("/ledgerpay/v1/payouts", reference)

    async def _find(self, path: str, reference: str) -> ProviderObject | None:
        body = await self.http.get(path, {"reference": reference})
        if body is None:
            return None
        found = body.get("data", [body]) if "id" not in body else [body]
        return to_object(found[0]) if found else None

    async def settlement(self, day: date) -> list[SettlementLine]:
        body = await self.http.get(f"/ledgerpay/v1/settlements/{day.isoformat()}")
        return settlement_lines(body)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            payload = self._verified(lowered, body)
        except WebhookRejected as first:
            if first.reason != "forged":
                raise
            self.credentials.reload()  # rotated since we last read the file?
            payload = self._verified(lowered, body)
        try:
            return ProviderEvent(lowered["webhook-id"], str(payload["type"]),
                                 to_object(payload["data"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise WebhookRejected("malformed", f"verified but unreadable: {exc!r}") from exc

    def _verified(self, headers: dict[str, str], body: bytes) -> Any:
        secrets = self.credentials.get().webhook_secrets
        for secret in secrets:
            try:
                # The package checks the timestamp, then the signature over the raw bytes, and
                # only then parses: nothing of an unverified body is ever read.
                return Webhook(secret).verify(body, headers)
            except (WebhookVerificationError, ValueError, UnicodeDecodeError):
                continue
        raise self._why(headers, body, secrets)

    @staticmethod
    def _why(headers: dict[str, str], body: bytes, secrets: tuple[str, ...]) -> WebhookRejected:
        """Stale (authentic but outside the tolerance: a replay) or forged: counted apart."""
        try:
            msg_id, ts = headers["webhook-id"], headers["webhook-timestamp"]
            at = datetime.fromtimestamp(float(ts), tz=UTC)
            given = [s.split(",", 1)[1] for s in headers["webhook-signature"].split(" ")]
            text = body.decode()
        except (KeyError, ValueError, IndexError, UnicodeDecodeError, OverflowError):
            return WebhookRejected("forged", "missing or unreadable webhook-* headers")
        for secret in secrets:
            expected = Webhook(secret).sign(msg_id, at, text).split(",", 1)[1]
            if any(hmac.compare_digest(expected, g) for g in given):
                return WebhookRejected("stale", f"webhook-timestamp {ts} outside the tolerance")
        return WebhookRejected("forged", "no webhook-signature matches a secret we hold")

    async def close(self) -> None:
        await self.http.close()

