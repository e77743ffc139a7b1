"""The limits slice's problems (phase 4), RFC 9457 with stable codes."""

from __future__ import annotations

from fintech_core.api.problems import ProblemType

PROBLEMS: dict[str, ProblemType] = {
    "rate-limited": ProblemType(429, "Too many requests",
        "You sent more than your rate-limit policy allows (GCRA: a burst, then a steady rate). "
        "`Retry-After` says when the next request will be accepted; the RateLimit-Policy and "
        "RateLimit fields describe the policy and what remains. Nothing was changed."),
    "rate-limiter-unavailable": ProblemType(503, "The rate limiter is unavailable",
        "Redis cannot be reached, and requests that move money fail closed rather than run "
        "unlimited. Nothing was changed; retry with the same Idempotency-Key. Reads are served."),
    "transfer-limit-exceeded": ProblemType(422, "Above the per-transfer maximum",
        "The amount is above the source account's per-transfer maximum. Nothing was changed."),
    "daily-limit-exceeded": ProblemType(422, "Above the daily outgoing limit",
        "With this transfer the source account would send more today (UTC) than its daily "
        "outgoing limit. Checked in the transfer's own transaction, so two concurrent "
        "transfers can never both pass a limit only one fits. Nothing was changed."),
}
