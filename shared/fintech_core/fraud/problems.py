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
PROBLEMS.update({
    "review-not-found": ProblemType(404, "No such review",
        "No transfer with this id was sent to review, or it does not exist."),
    "review-not-open": ProblemType(409, "The review is not open",
        "The review was already approved or rejected, or its hold expired (state EXPIRED): "
        "nothing was changed. GET /transfers/{id} shows its state."),
})
PROBLEMS["transfer-under-review"] = ProblemType(409, "The transfer is under review",
    "The transfer is a hold awaiting a fraud review: only the review (approve or reject, by "
    "support) settles it. Nothing was changed; it also ends at its expiry.")
