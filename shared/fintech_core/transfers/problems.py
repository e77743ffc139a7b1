"""The transfers slice's problems: a transfer request that is wrong in itself or cannot be paid."""

from __future__ import annotations

from fintech_core.api.problems import ProblemType

PROBLEMS: dict[str, ProblemType] = {
    "transfer-not-found": ProblemType(404, "Transfer not found", "No transfer has this id."),
    "same-account": ProblemType(422, "Source and destination are the same account",
        "A transfer must move money between two different accounts."),
    "currency-mismatch": ProblemType(422, "Currency does not match the account",
        "The transfer currency must equal the currency of every account involved."),
    "unknown-currency": ProblemType(422, "Unknown currency",
        "The currency is not in the lab's ISO 4217 table."),
    "insufficient-funds": ProblemType(422, "Insufficient funds",
        "The source account's balance does not cover the amount. The attempt is recorded as a "
        "FAILED transfer and the response is replayed for the same Idempotency-Key."),
}
