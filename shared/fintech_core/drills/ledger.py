"""What the database says after a drill: balances and what explains them, per target.

How a phase stores money is declared by the phase (`Phase.money_facts`, the last one composed
wins): phase 0 keeps a balance column explained by its transfers table (transfers/facts.py);
from phase 1 the balance is a projection of immutable double-entry postings, so the postings are
what must explain it (ledger/facts.py). `ledger_facts` runs whichever the composition declares;
every drill follows, unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class MoneyFacts:
    """What explains a balance in a phase: a query returning (account id text, net amount) for
    the accounts `%s::uuid[]`, and how to name that evidence in a verdict."""

    explained_by: str
    net_query: str


@dataclass(frozen=True)
class LedgerFacts:
    balances: dict[str, float]  # label -> balance, as stored
    # label -> net of COMPLETED recorded movements (deposits included); None: nothing recorded
    recorded: dict[str, float] | None = None
    transfers: dict[str, int] | None = None  # status -> count, transfers between drill accounts
    recorded_from: str = "recorded transfers"  # what `recorded` sums

    @property
    def total(self) -> float:
        return sum(self.balances.values())

    def describe(self) -> str:
        money = ", ".join(f"{label} {_n(v)}" for label, v in self.balances.items())
        if self.transfers is None:
            return f"{money} (total {_n(self.total)}); no transfer is recorded anywhere"
        counts = ", ".join(f"{n} {s.lower()}" for s, n in sorted(self.transfers.items()))
        return f"{money} (total {_n(self.total)}); transfers recorded: {counts or 'none'}"


def _n(value: float) -> str:
    return f"{value:g}"


def _rows(database_url: str, query: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
    with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as conn:
        return conn.execute(query, params).fetchall()


def naive_facts(database_url: str, accounts: Mapping[str, object]) -> LedgerFacts:
    """The naive baseline keeps float balances and nothing else: no transfer, no key, no log."""
    ids = {v: k for k, v in accounts.items()}
    rows = _rows(database_url, "SELECT id, balance FROM naive_accounts WHERE id = ANY(%s)",
                 (list(ids),))
    balances = {ids[i]: float(b) for i, b in rows}  # type: ignore[arg-type]
    return LedgerFacts({label: balances[label] for label in accounts})


def ledger_facts(database_url: str, money: MoneyFacts, accounts: Mapping[str, object]) -> LedgerFacts:
    """Balances of the drill's accounts, what explains them, and their transfers by status."""
    ids = {str(v): k for k, v in accounts.items()}
    wanted = (list(ids),)
    rows = _rows(database_url, "SELECT id::text, balance FROM accounts"
                 " WHERE id = ANY(%s::uuid[])", wanted)
    balances = {ids[str(i)]: float(b) for i, b in rows}  # type: ignore[arg-type]
    net = _rows(database_url, money.net_query, wanted)
    counts = _rows(database_url, "SELECT status, count(*) FROM transfers WHERE kind = 'TRANSFER'"
                   " AND source_id = ANY(%s::uuid[]) GROUP BY status", wanted)
    return LedgerFacts(
        balances={label: balances[label] for label in accounts},
        recorded={ids[str(i)]: float(n) for i, n in net},  # type: ignore[arg-type]
        transfers={str(s): int(n) for s, n in counts},  # type: ignore[call-overload]
        recorded_from=money.explained_by,
    )
