"""Payments (phase 3): money entering and leaving through a provider we do not control.

domain (state machine, pure) -> ports (`PaymentProvider`, one port for every provider) ->
adapters (ledgerpay: Standard Webhooks; stripeish: Stripe-Signature; SQL repositories) ->
service (pay-in, payout saga, refunds, webhook ingestion, poller, reconciliation) -> routes.

The ledger side (payments/money.py) never names a provider: it posts against the provider's
clearing account whatever the provider's API, envelope or signature scheme.
"""
