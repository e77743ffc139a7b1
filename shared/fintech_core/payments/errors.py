"""Payments errors, each with a stable code (problems.py describes them to clients)."""

from __future__ import annotations

from fintech_core.domain.errors import DomainError, NotFound, Rejected


class PaymentNotFound(NotFound):
    code = "payment-not-found"


class PayoutNotFound(NotFound):
    code = "payout-not-found"


class UnknownProvider(NotFound):
    code = "unknown-provider"


class WebhookRefused(DomainError):
    """A webhook that changed nothing because it could not be trusted or read."""


class WebhookSignatureInvalid(WebhookRefused):
    code = "webhook-signature-invalid"


class WebhookStale(WebhookRefused):
    code = "webhook-timestamp-stale"


class WebhookMalformed(WebhookRefused):
    code = "webhook-malformed"


class PaymentNotRefundable(Rejected):
    code = "payment-not-refundable"


class RefundExceedsPayment(Rejected):
    code = "refund-exceeds-payment"


REJECTIONS = {"forged": WebhookSignatureInvalid, "stale": WebhookStale,
              "malformed": WebhookMalformed}
