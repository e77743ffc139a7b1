"""Phase 2: events. The outbox (written with the ledger change), the relay (outbox -> broker),
idempotent consumers with retries and a dead-letter queue, and the two read models."""
