"""Every business and request error the core can raise, each with a stable code.

The code is the contract: the HTTP layer turns it into an RFC 9457 problem `type`
(`/problems/<code>`), and tests, drills and clients match on it, never on message text.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "domain-error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    code = "not-found"


class AccountNotFound(NotFound):
    code = "account-not-found"


class TransferNotFound(NotFound):
    code = "transfer-not-found"


class Rejected(DomainError):
    """The request is well-formed but the business rules refuse it."""


class SameAccount(Rejected):
    code = "same-account"


class CurrencyMismatch(Rejected):
    code = "currency-mismatch"


class UnknownCurrency(Rejected):
    code = "unknown-currency"


class InsufficientFunds(Rejected):
    code = "insufficient-funds"


class InvalidAmount(Rejected):
    code = "invalid-amount"


class AmountTooPrecise(InvalidAmount):
    """More decimal places than the currency has: refused, never rounded."""

    code = "amount-too-precise"


class Declined(Rejected):
    """A refusal decided by policy on an otherwise valid transfer (phase 5's fraud block). It is
    recorded as a FAILED transfer, like insufficient funds; its code is deliberately generic:
    the client is not told which rule fired (the auditor is, on GET /transfers/{id})."""

    code = "transfer-declined"


class AccountStateConflict(DomainError):
    code = "account-state-conflict"


class AccountFrozen(AccountStateConflict):
    code = "account-frozen"


class AccountClosed(AccountStateConflict):
    code = "account-closed"


class AccountNotEmpty(AccountStateConflict):
    code = "account-not-empty"


class IdempotencyError(DomainError):
    code = "idempotency-error"


class IdempotencyKeyMissing(IdempotencyError):
    code = "idempotency-key-missing"


class IdempotencyKeyMalformed(IdempotencyError):
    code = "idempotency-key-malformed"


class IdempotencyKeyReused(IdempotencyError):
    code = "idempotency-key-reused"


class IdempotencyKeyInFlight(IdempotencyError):
    code = "idempotency-key-in-flight"
