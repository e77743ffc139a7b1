"""The idempotency port: claim a key for one transaction, store and replay its first response."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class StoredResponse:
    """The first response to an idempotent request, kept to be replayed byte-for-byte."""

    status: int
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredKey:
    fingerprint: str
    response: StoredResponse


class InFlight:
    """`claim_many`'s answer for a key another transaction holds right now (409)."""


IN_FLIGHT = InFlight()
Claim = StoredKey | InFlight | None


class IdempotencyStore(Protocol):
    async def claim(self, principal: str, key: str) -> StoredKey | None:
        """Take the in-flight lock for (principal, key) for the rest of the transaction, and
        return the stored response if the key was already used. Raises IdempotencyKeyInFlight
        when another transaction holds the key right now."""
        ...
    async def claim_many(self, wanted: Sequence[tuple[str, str]]) -> list[Claim]:
        """`claim` for many (principal, key) pairs at once, answering per pair instead of
        raising: IN_FLIGHT, the stored key, or None (unused, now held by this transaction)."""
        ...
    async def save(self, principal: str, key: str, fingerprint: str,
                   response: StoredResponse) -> None: ...
    async def reap(self, older_than_hours: int) -> int: ...
