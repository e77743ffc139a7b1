"""The ledger's problems (phase 1): amounts, holds, reversals and the ledger's range."""

from __future__ import annotations

from fintech_core.api.problems import ProblemType

PROBLEMS: dict[str, ProblemType] = {
    "invalid-amount": ProblemType(422, "Invalid amount",
        "The amount is not a plain decimal number in the currency's minor units."),
    "amount-too-precise": ProblemType(422, "More decimal places than the currency has",
        "An amount is never rounded silently: 10.005 EUR is refused, not turned into 10.00 or "
        "10.01. Send at most the currency's ISO 4217 exponent of decimal places."),
    "transfer-not-pending": ProblemType(409, "The transfer is not a pending hold",
        "Only a PENDING hold can be posted or voided; this one is already COMPLETED, VOIDED or "
        "EXPIRED (or FAILED). Nothing was changed."),
    "not-a-hold": ProblemType(409, "The transfer is not a two-phase transfer",
        "Post and void apply to holds (POST /holds). A completed transfer is corrected by a "
        "reversal instead."),
    "hold-expired": ProblemType(409, "The hold has expired",
        "The hold passed its expiry, so its funds are released and it can no longer be posted "
        "or voided. Nothing was changed."),
    "post-exceeds-hold": ProblemType(422, "Post amount exceeds the hold",
        "A hold can be posted for at most the amount it reserved. Nothing was changed."),
    "transfer-not-reversible": ProblemType(409, "The transfer cannot be reversed",
        "Only a COMPLETED transfer that is not itself a reversal can be reversed."),
    "transfer-already-reversed": ProblemType(409, "The transfer was already reversed",
        "A transfer is reversed at most once; `reversed_by` names the reversal."),
    "ledger-limit-exceeded": ProblemType(422, "A balance would leave the ledger's range",
        "The movement would take a balance beyond 2^63-1 minor units; nothing was changed."),
}
