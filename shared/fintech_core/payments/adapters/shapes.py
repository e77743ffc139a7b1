"""The one shape both personalities share: the daily settlement report (contract, phase 3)."""

from __future__ import annotations

from typing import Any

from fintech_core.payments.ports import SettlementLine


def settlement_lines(body: dict[str, Any] | None) -> list[SettlementLine]:
    if body is None:
        return []
    return [SettlementLine(line["type"], str(line["id"]), line.get("reference"),
                           int(line["amount"]), int(line["fee"]), int(line["net"]),
                           str(line["status"]), str(line["occurred_at"]))
            for line in body.get("lines", [])]
