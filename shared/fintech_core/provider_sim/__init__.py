"""The payment provider simulator (phase 3): one engine, two personalities (ledgerpay with
Standard Webhooks signing, stripeish with Stripe-Signature), signed webhooks delivered with
retries, and runtime knobs that make it misbehave. It is a separate process with its own
database; the payments slice talks to it only over HTTP. README.md is the contract."""
