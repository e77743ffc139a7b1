"""The transfers port: a transfer is written once and read back by id."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from fintech_core.transfers.domain import Transfer


class TransferRepository(Protocol):
    async def add(self, transfer: Transfer) -> None: ...
    async def get(self, transfer_id: UUID) -> Transfer | None: ...
