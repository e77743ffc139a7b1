"""How phase 0 explains a balance to the drills: the balance column, by COMPLETED transfers."""

from __future__ import annotations

from fintech_core.drills.ledger import MoneyFacts

TRANSFERS_EXPLAIN_BALANCES = MoneyFacts(
    explained_by="recorded transfers",
    net_query=(
        "SELECT a.id::text, COALESCE(sum(CASE WHEN t.destination_id = a.id"
        "       THEN t.amount ELSE -t.amount END), 0)"
        "  FROM accounts a LEFT JOIN transfers t ON t.status = 'COMPLETED'"
        "   AND a.id IN (t.source_id, t.destination_id)"
        " WHERE a.id = ANY(%s::uuid[]) GROUP BY a.id"),
)
