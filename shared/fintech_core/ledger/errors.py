"""Ledger errors, each with a stable code the API turns into a problem type (api/problems.py)."""

from __future__ import annotations

from fintech_core.domain.errors import DomainError, Rejected


class UnbalancedEntry(ValueError):
    """A journal entry whose postings do not sum to zero: a programming error, never input. The
    database refuses the same entry at COMMIT (a deferred constraint trigger)."""


class TransitionRefused(DomainError):
    """A command on an existing transfer that its state does not allow; nothing changes."""

    code = "transition-refused"


class TransferNotPending(TransitionRefused):
    code = "transfer-not-pending"


class NotAHold(TransitionRefused):
    code = "not-a-hold"


class HoldExpired(TransitionRefused):
    code = "hold-expired"


class PostExceedsHold(Rejected):
    code = "post-exceeds-hold"


class TransferNotReversible(TransitionRefused):
    code = "transfer-not-reversible"


class AlreadyReversed(TransitionRefused):
    code = "transfer-already-reversed"


class LedgerLimitExceeded(Rejected):
    """A balance would leave PostgreSQL's bigint range; refused before the database overflows."""

    code = "ledger-limit-exceeded"
