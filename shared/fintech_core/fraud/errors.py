"""The review queue's refusals (stable codes; their problem types are in fraud/problems.py)."""

from __future__ import annotations

from fintech_core.domain.errors import DomainError, NotFound


class ReviewNotFound(NotFound):
    code = "review-not-found"


class ReviewNotOpen(DomainError):
    code = "review-not-open"


class TransferUnderReview(DomainError):
    code = "transfer-under-review"
