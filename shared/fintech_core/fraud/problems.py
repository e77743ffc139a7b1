"""The fraud slice's problems (phase 5), RFC 9457 with stable codes."""

from __future__ import annotations

from fintech_core.api.problems import ProblemType

PROBLEMS: dict[str, ProblemType] = {
    # Deliberately generic: the client (maybe the fraudster) learns neither the rule nor the score.
    # The transfer is recorded as FAILED; roles that read decisions see the rule on GET.
    "transfer-declined": ProblemType(422, "The transfer was declined",
        "The transfer was declined by the risk checks. It is recorded as FAILED, no money moved, "
        "and a retry with the same Idempotency-Key replays this answer. Contact support to "
        "have it looked at."),
}
