"""System accounts: the ledger's edges, where money enters and leaves the lab.

A deposit is not money appearing from nowhere: it debits `@external:cash-in:<CUR>` (which goes
negative, the lab's liability to the outside world) and credits the customer. A withdrawal debits
the customer and credits `@external:cash-out:<CUR>`. So every movement, deposits included, is a
balanced entry, and the sum of all balances per currency is zero at every commit.

Ids are deterministic (UUIDv5 of the name), so every process agrees on them without a lookup, and
the accounts are created on first use (INSERT ... ON CONFLICT DO NOTHING). System accounts have no
credit limit: they are allowed to be as negative as the money the lab has taken in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID, uuid5

from fintech_core.domain.currency import require_currency

NAMESPACE = UUID("6f1c1f0e-3c55-4a4e-9a52-1f1e2d0c0a01")


class SystemRole(StrEnum):
    CASH_IN = "cash-in"
    CASH_OUT = "cash-out"


@dataclass(frozen=True)
class SystemAccount:
    id: UUID
    name: str
    currency: str


def system_account(role: SystemRole, currency: str) -> SystemAccount:
    name = f"@external:{role.value}:{require_currency(currency)}"
    return SystemAccount(uuid5(NAMESPACE, name), name, currency)
