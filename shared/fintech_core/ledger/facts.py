"""How the ledger explains a balance to the drills: the sum of the account's POSTED postings."""

from __future__ import annotations

from fintech_core.drills.ledger import MoneyFacts

POSTINGS_EXPLAIN_BALANCES = MoneyFacts(
    explained_by="posted ledger entries",
    net_query=(
        "SELECT a.id::text, COALESCE(sum(p.signed_amount), 0)"
        "  FROM unnest(%s::uuid[]) AS a(id) LEFT JOIN postings p"
        "    ON p.account_id = a.id AND p.bucket = 'POSTED' GROUP BY a.id"),
)
