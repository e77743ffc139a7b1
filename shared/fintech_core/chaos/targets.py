"""What the workload drives: the real transfer API, or the naive baseline for contrast.

A target knows how to seed accounts, how to send one transfer attempt, and which table holds the
balances. `keyed` says whether it speaks Idempotency-Key: only then can the checker hold it to
"one outcome per key"; the naive baseline is judged on balances alone, and fails them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

SNAPSHOT_SQL = {  # one statement = one MVCC snapshot: a consistent read without a transaction
    "bank": "SELECT sum(balance), min(balance), count(*) FROM accounts WHERE id = ANY(%s::uuid[])",
    "naive": "SELECT sum(balance), min(balance), count(*) FROM naive_accounts"
             " WHERE id = ANY(%s::int[])",
}


@dataclass(frozen=True)
class Answer:
    status: int
    code: str | None = None  # the problem code of an error
    transfer_id: str | None = None  # from a 201 body, or the FAILED transfer of a 422
    replayed: bool = False


def _answer(r: httpx.Response) -> Answer:
    try:
        body: Any = r.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    tid = body.get("id") if r.status_code == 201 else body.get("transfer_id")
    return Answer(r.status_code, body.get("code"), str(tid) if tid else None,
                  r.headers.get("idempotent-replayed") == "true")


class BankTarget:
    name, keyed = "bank", True

    def __init__(self, principal: str) -> None:
        self.headers = {"X-Client-Id": principal}
        # Seed deposits use their own caller, so the run's keys are exactly the workload's.
        self.seed_headers = {"X-Client-Id": f"{principal}.seed"}

    def seed(self, http: httpx.Client, n: int, amount: int, owner: str) -> list[str]:
        ids = []
        for _ in range(n):
            r = http.post("/accounts", json={"owner": owner, "currency": "EUR"})
            r.raise_for_status()
            ids.append(str(r.json()["id"]))
            http.post(f"/accounts/{ids[-1]}/deposits", json={"amount": amount, "currency": "EUR"},
                      headers={"Idempotency-Key": str(uuid.uuid4()), **self.seed_headers}
                      ).raise_for_status()
        return ids

    async def send(self, http: httpx.AsyncClient, src: str, dst: str, amount: int, key: str,
                   timeout: float) -> Answer:
        r = await http.post("/transfers", timeout=timeout,
                            json={"source_account_id": src, "destination_account_id": dst,
                                  "amount": amount, "currency": "EUR"},
                            headers={"Idempotency-Key": key, **self.headers})
        return _answer(r)


class NaiveTarget:
    """THE DELIBERATELY BROKEN BASELINE: no key, no transfer record; a retry would debit twice,
    so the workload sends each transfer once."""

    name, keyed = "naive", False

    def seed(self, http: httpx.Client, n: int, amount: int, owner: str) -> list[str]:
        ids = []
        for _ in range(n):
            r = http.post("/naive/accounts", json={"owner": owner, "balance": amount})
            r.raise_for_status()
            ids.append(str(r.json()["id"]))
        return ids

    async def send(self, http: httpx.AsyncClient, src: str, dst: str, amount: int, key: str,
                   timeout: float) -> Answer:
        r = await http.post("/naive/transfer", timeout=timeout,
                            json={"from_id": int(src), "to_id": int(dst), "amount": amount})
        return Answer(201 if r.status_code == 200 else r.status_code)


def make_target(name: str, principal: str) -> BankTarget | NaiveTarget:
    if name == "bank":
        return BankTarget(principal)
    if name == "naive":
        return NaiveTarget()
    raise ValueError(f"unknown target {name!r}: bank or naive")
