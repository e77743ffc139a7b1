"""Phase 5's fraud slice: rules as data, a decision within a time budget on the request path, a
review queue on phase 1's holds, async rules behind the outbox, shadow mode and a backtest."""
