"""The outbox fake: events a unit test can inspect."""

from __future__ import annotations

from uuid import UUID

from fintech_core.domain.ids import uuid7
from fintech_core.events.emit import NewEvent


class MemoryOutbox:
    """The fake: events a unit test can inspect."""

    def __init__(self) -> None:
        self.events: list[NewEvent] = []

    async def add(self, event: NewEvent) -> UUID:
        self.events.append(event)
        return uuid7()
