"""The accounts port: what the use cases need from account storage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol
from uuid import UUID

from fintech_core.accounts.domain import Account


class AccountRepository(Protocol):
    async def add(self, account: Account) -> None: ...
    async def get(self, account_id: UUID) -> Account | None: ...
    async def page(self, after: UUID | None, limit: int, owner: str | None) -> list[Account]: ...
    async def lock(self, ids: Sequence[UUID]) -> dict[UUID, Account]:
        """Lock the rows FOR UPDATE in ascending id order (so two transfers touching the same pair
        can never deadlock) and return the ones that exist."""
        ...
    async def set_status(self, account: Account) -> None: ...
    async def apply_deltas(self, deltas: Mapping[UUID, int]) -> None: ...
