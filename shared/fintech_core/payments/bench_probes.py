"""The measurements of phase 3's bench part, each judged from PostgreSQL afterwards.

- webhook ingestion: pay-ins the simulator charged but whose webhooks it lost (knob
  `lose_webhooks`), then one signed `charge.succeeded` webhook per pay-in, each a new id, POSTed
  by closed-loop senders; a webhook counts when the API answered 200, i.e. after the inbox row,
  the ledger credit and the outbox event committed. Rate = webhooks / wall time.
- pay-in end to end: POST /payments, one at a time, timed from the client's send to the
  SETTLED row of payment_state_history (PostgreSQL's clock, same host), which the simulator's
  real webhook causes.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from fintech_core.bench.auth import auth_of
from fintech_core.provider_sim.personalities import ledgerpay
from fintech_core.provider_sim.secrets import load_or_create


def percentiles(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    s = sorted(values)

    def rank(q: float) -> float:
        return round(s[min(len(s) - 1, max(0, int(q * len(s) + 0.999999) - 1))], 1)

    return {"n": len(s), "p50": rank(0.5), "p95": rank(0.95), "p99": rank(0.99),
            "max": round(s[-1], 1)}


def open_account(http: httpx.Client, owner: str) -> str:
    r = http.post("/accounts", json={"owner": owner, "currency": "EUR"})
    r.raise_for_status()
    return str(r.json()["id"])


def create_payment(http: httpx.Client, account: str, amount: int) -> str:
    r = http.post("/payments", json={"account_id": account, "amount": amount, "currency": "EUR",
                                     "provider": "ledgerpay"},
                  headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    r.raise_for_status()
    return str(r.json()["id"])


def signed_success(lab_dir: Path, payment: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """A `charge.succeeded` for one of our pay-ins, signed as ledgerpay signs (Standard
    Webhooks), with a webhook id nobody used before."""
    event = {"id": f"msg_bench{uuid.uuid4().hex}", "type": "charge.succeeded",
             "created_at": datetime.now(UTC),
             "payload": {"kind": "charge", "id": payment["provider_ref"], "status": "succeeded",
                         "amount": payment["amount"], "currency": "EUR",
                         "reference": payment["id"]}}
    secrets = load_or_create(lab_dir).of("ledgerpay").webhook_secrets
    return ledgerpay.webhook(event, secrets, int(time.time()))


def captured(db_url: str, ids: list[str]) -> list[dict[str, Any]]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        rows = conn.execute("SELECT id::text, amount, provider_ref FROM payments"
                            " WHERE id = ANY(%s::uuid[]) AND state = 'CAPTURED'", (ids,))
        return [dict(zip(("id", "amount", "provider_ref"), r, strict=True)) for r in rows]


def ingest(api_url: str, lab_dir: Path, payments: list[dict[str, Any]],
           senders: int) -> dict[str, Any]:
    signed = [signed_success(lab_dir, p) for p in payments]
    statuses: dict[str, int] = {}
    latencies: list[float] = []

    def send(item: tuple[dict[str, str], bytes], http: httpx.Client) -> None:
        t0 = time.perf_counter()
        r = http.post("/webhooks/ledgerpay", content=item[1], headers=item[0], timeout=30)
        latencies.append((time.perf_counter() - t0) * 1000)
        statuses[str(r.status_code)] = statuses.get(str(r.status_code), 0) + 1

    with httpx.Client(base_url=api_url) as http, ThreadPoolExecutor(senders) as pool:
        began = time.perf_counter()
        list(pool.map(lambda item: send(item, http), signed))
        took = time.perf_counter() - began
    return {"webhooks": len(signed), "senders": senders, "seconds": round(took, 2),
            "per_second": round(len(signed) / took, 1) if took else None,
            "statuses": statuses, "latency_ms": percentiles(latencies)}


def settled_effects(db_url: str, ids: list[str]) -> dict[str, int]:
    """What the ingested webhooks did, from the database: settled pay-ins, their ledger credits
    (one each), and inbox rows of the bench's webhook ids."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM payments WHERE id = ANY(%(i)s::uuid[])"
            "  AND state = 'SETTLED'),"
            " (SELECT count(*) FROM transfers WHERE reference = ANY(%(r)s)),"
            " (SELECT count(*) FROM provider_inbox WHERE reference = ANY(%(t)s)"
            "  AND webhook_id LIKE 'msg_bench%%' AND outcome = 'applied')",
            {"i": ids, "r": [f"payment {i}" for i in ids], "t": ids}).fetchone()
    assert row is not None
    return {"settled": int(row[0]), "ledger_credits": int(row[1]), "inbox_applied": int(row[2])}


def payin_latency(api_url: str, db_url: str, account: str, n: int,
                  timeout_s: float = 60.0) -> dict[str, Any]:
    sent: dict[str, float] = {}
    with httpx.Client(base_url=api_url, auth=auth_of(api_url)) as http:
        for _ in range(n):
            t0 = time.time()
            sent[create_payment(http, account, 1000)] = t0
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(db_url, autocommit=True) as conn:
        while True:
            rows = conn.execute(
                "SELECT resource_id::text, extract(epoch FROM at), cause FROM"
                " payment_state_history WHERE resource_id = ANY(%s::uuid[])"
                " AND to_state = 'SETTLED'", (list(sent),)).fetchall()
            if len(rows) == n or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    ms = [(float(at) - sent[rid]) * 1000 for rid, at, _ in rows]
    causes: dict[str, int] = {}
    for _, _, cause in rows:
        causes[cause] = causes.get(cause, 0) + 1
    return {"payments": n, "settled": len(rows), "settled_by": causes,
            "request_to_settled_ms": percentiles(ms)}
