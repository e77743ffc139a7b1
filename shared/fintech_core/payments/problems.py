"""The payments slice's problems (phase 3), RFC 9457 with stable codes."""

from __future__ import annotations

from fintech_core.api.problems import ProblemType

PROBLEMS: dict[str, ProblemType] = {
    "payment-not-found": ProblemType(404, "Payment not found",
        "No pay-in has this id."),
    "payout-not-found": ProblemType(404, "Payout not found",
        "No payout has this id."),
    "unknown-provider": ProblemType(404, "Unknown provider",
        "Webhooks are accepted at /webhooks/ledgerpay and /webhooks/stripeish only."),
    "webhook-signature-invalid": ProblemType(400, "The webhook signature does not verify",
        "No signature in the webhook's headers matches the raw body under a secret we hold "
        "(after re-reading the rotated secrets once). Nothing was changed; the rejection is "
        "counted in GET /payments/webhooks/stats."),
    "webhook-timestamp-stale": ProblemType(400, "The webhook is outside the time tolerance",
        "The signature is authentic but its timestamp is more than 300 s from our clock: a "
        "replay, or a sender with a skewed clock. Nothing was changed; it is counted."),
    "webhook-malformed": ProblemType(400, "The webhook cannot be read",
        "The signature verified but the body is not an event we understand. Nothing was "
        "changed; it is counted."),
    "payment-not-refundable": ProblemType(409, "The payment cannot be refunded",
        "Only a SETTLED (or PARTIALLY_REFUNDED) pay-in can be refunded: before that no money "
        "reached the account; after REFUNDED nothing is left. Nothing was changed."),
    "refund-exceeds-payment": ProblemType(422, "The refund exceeds what is left to refund",
        "Refunds of one payment, pending ones included, add up to at most its amount. Nothing "
        "was changed."),
}
