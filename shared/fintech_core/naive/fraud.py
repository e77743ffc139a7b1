"""THE DELIBERATELY BROKEN FRAUD BASELINE, mounted only with FINCORE_NAIVE_BASELINE=true.

The fraud check a first version ships, kept so phase 5's drills can play the same customers
against it and against phase 5. It uses the lab's real rule sets (fraud/rulesets/*.yaml), and
gets every lesson of the phase wrong, on purpose:
- no budget: every transfer waits for the engine however long it takes (the drills' slow-engine
  knob FINCORE_FRAUD_ENGINE_DELAY_MS, honoured in drill mode), and the money moves when it
  answers, whether or not the client is still there;
- no shadow mode: a candidate rule set (FINCORE_FRAUD_SHADOW_RULES) is deployed straight to live;
- "review" means flag and let it through: the money moves now, support looks later, and a
  reject can only try to pull the money back from wherever it went;
- the mule rule is an async one only (`/naive/fraud/scan`, the nightly job): it flags an account
  after its money left.
Floats for money and autocommitted statements, like the naive transfer. Do not copy any of it.

Its tables are created on first use (the baseline predates the migrations it would need).
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from fintech_core.api.deps import ContainerDep
from fintech_core.naive.fraud_features import features_of
from fintech_core.naive.routes import NAIVE_IS_PUBLIC

TABLES = """
CREATE TABLE IF NOT EXISTS naive_fraud_transfers (
    id bigserial PRIMARY KEY, from_id bigint NOT NULL, to_id bigint NOT NULL,
    amount double precision NOT NULL, ruleset text NOT NULL, verdict text NOT NULL,
    reasons text[] NOT NULL DEFAULT '{}', moved boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE IF NOT EXISTS naive_fraud_reviews (
    transfer_id bigint PRIMARY KEY, state text NOT NULL DEFAULT 'OPEN', outcome text,
    decided_at timestamptz);
CREATE TABLE IF NOT EXISTS naive_fraud_flags (
    account_id bigint PRIMARY KEY, reason text NOT NULL,
    flagged_at timestamptz NOT NULL DEFAULT clock_timestamp())"""
_created: set[str] = set()
_rulesets: dict[str, Any] = {}

class NaiveFraudTransferIn(BaseModel):
    from_id: int
    to_id: int
    amount: float


def ensure_tables(conn: psycopg.Connection[Any]) -> None:
    """Create the baseline's tables if missing (the drills call it too, to read them first)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('naive_fraud'))")
        for ddl in TABLES.split(";"):
            conn.execute(ddl)


def connect(url: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(url, autocommit=True)
    if url not in _created:
        ensure_tables(conn)
        _created.add(url)
    return conn


def _ruleset(name: str) -> Any:
    from fintech_core.fraud.rules import load_ruleset

    if name not in _rulesets:
        _rulesets[name] = load_ruleset(name)
    return _rulesets[name]


def move(db: psycopg.Connection[Any], src: int, dst: int, amount: float) -> None:
    row = db.execute("SELECT balance FROM naive_accounts WHERE id = %s", (src,)).fetchone()
    if row is None or row[0] < amount:
        raise HTTPException(400, "insufficient funds")
    db.execute("UPDATE naive_accounts SET balance = balance - %s WHERE id = %s", (amount, src))
    db.execute("UPDATE naive_accounts SET balance = balance + %s WHERE id = %s", (amount, dst))


def _record(db: psycopg.Connection[Any], body: NaiveFraudTransferIn, ruleset: str, verdict: str,
            reasons: list[str]) -> int:
    """Move the money unless blocked, then write down what happened; a review is flagged for
    support and the money moves all the same."""
    if verdict != "block":
        move(db, body.from_id, body.to_id, body.amount)
    row = db.execute("INSERT INTO naive_fraud_transfers (from_id, to_id, amount, ruleset, verdict,"
                     " reasons, moved) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                     (body.from_id, body.to_id, body.amount, ruleset, verdict, reasons,
                      verdict != "block")).fetchone()
    tid = int(row[0]) if row else 0
    if verdict == "review":
        db.execute("INSERT INTO naive_fraud_reviews (transfer_id) VALUES (%s)", (tid,))
    return tid


def router() -> APIRouter:
    r = APIRouter(prefix="/naive/fraud", tags=["naive baseline (deliberately broken)"],
                  dependencies=[Depends(NAIVE_IS_PUBLIC)])

    # Plain `def` routes: they run in a worker thread, which a client that hangs up cannot cancel.
    @r.post("/transfers", response_model=None)
    def transfer(body: NaiveFraudTransferIn, c: ContainerDep) -> dict[str, object] | JSONResponse:
        s = c.settings
        if s.drill_mode and s.fraud_engine_delay_ms:
            time.sleep(s.fraud_engine_delay_ms / 1000)  # "the engine is slow today": wait for it
        ruleset = _ruleset(s.fraud_shadow_rules or s.fraud_rules)  # the candidate goes live
        with connect(c.database_url) as db:
            decision = ruleset.evaluate(features_of(db, body.from_id, body.to_id, body.amount))
            verdict = str(decision.verdict)
            tid = _record(db, body, ruleset.name, verdict, decision.reason_codes)
        if verdict == "block":
            return JSONResponse({"error": "declined", "id": tid}, status_code=403)
        return {"ok": True, "id": tid, "flagged": verdict == "review"}

    @r.post("/unchecked-transfers")
    def unchecked(body: NaiveFraudTransferIn, c: ContainerDep) -> dict[str, object]:
        """The first version's money move: no rule on the request path; the scan looks later."""
        with connect(c.database_url) as db:
            return {"ok": True, "id": _record(db, body, "none", "allow", [])}

    return r
