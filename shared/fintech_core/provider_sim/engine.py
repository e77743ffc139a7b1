"""The engine both personalities share: charges, refunds, payouts, fees, events, settlement.

Every function runs inside the caller's transaction, so an object, its event and the event's
delivery rows are committed together: an event is never lost between "acted" and "queued", and
never queued for something that was rolled back. Objects are returned as engine dicts (the
columns of `objects`); a personality renders them in its own shape.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from fintech_core.provider_sim.knobs import Conn, Knobs
from fintech_core.provider_sim.problems import Problem

PAYOUT_FEE = 100
ID_PREFIX = {("ledgerpay", "charge"): "ch_", ("stripeish", "charge"): "pi_"}
EVENT_PREFIX = {"ledgerpay": "msg_", "stripeish": "evt_"}
COLUMNS = ("id, provider, kind, reference, amount, currency, status, outcome, failure_code, fee, "
           "charge_id, instrument, knobs, created_at, settled_at")


def charge_fee(amount: int) -> int:
    """2.9 % + 0.25 in minor units, integer math (floor of the percentage)."""
    return amount * 29 // 1000 + 25


def new_id(provider: str, kind: str) -> str:
    prefix = ID_PREFIX.get((provider, kind), {"refund": "re_", "payout": "po_"}.get(kind, "ch_"))
    return prefix + secrets.token_hex(12)


async def _insert(conn: Conn, row: dict[str, Any]) -> dict[str, Any]:
    cur = await conn.execute(
        f"INSERT INTO objects (id, provider, kind, reference, amount, currency, status, outcome, "
        f"failure_code, fee, charge_id, instrument, knobs, due_at, settled_at) "
        f"VALUES (%(id)s, %(provider)s, %(kind)s, %(reference)s, %(amount)s, %(currency)s, "
        f"%(status)s, %(outcome)s, %(failure_code)s, %(fee)s, %(charge_id)s, %(instrument)s, "
        f"%(knobs)s, now() + make_interval(secs => %(delay_ms)s / 1000.0), "
        f"CASE WHEN %(status)s = 'pending' THEN NULL ELSE now() END) RETURNING {COLUMNS}",
        {**row, "knobs": Jsonb(row["knobs"])})
    created = await cur.fetchone()
    assert created is not None
    return dict(created)


def _base(provider: str, kind: str, amount: int, currency: str, reference: str,
          instrument: str, knobs: Knobs) -> dict[str, Any]:
    return {"id": new_id(provider, kind), "provider": provider, "kind": kind,
            "reference": reference, "amount": amount, "currency": currency,
            "instrument": instrument, "knobs": knobs.webhook_part(), "charge_id": None,
            "failure_code": None, "fee": 0, "delay_ms": 0}


async def create_charge(conn: Conn, provider: str, *, amount: int, currency: str,
                        reference: str, instrument: str, declined: bool,
                        knobs: Knobs) -> dict[str, Any]:
    """Succeeded at once, failed at once (declined), or pending for `settle_delay_ms`."""
    row = _base(provider, "charge", amount, currency, reference, instrument, knobs)
    if declined:
        row.update(status="failed", outcome="failed", failure_code="card_declined")
    elif knobs.settle_delay_ms > 0:
        row.update(status="pending", outcome="succeeded", delay_ms=knobs.settle_delay_ms)
    else:
        row.update(status="succeeded", outcome="succeeded", fee=charge_fee(amount))
    created = await _insert(conn, row)
    if created["status"] != "pending":
        await emit(conn, created, f"charge.{created['status']}")
    return created


async def create_payout(conn: Conn, provider: str, *, amount: int, currency: str,
                        reference: str, instrument: str, closed: bool,
                        knobs: Knobs) -> dict[str, Any]:
    """Always pending first; paid (or failed: closed account) after `payout_delay_ms`."""
    row = _base(provider, "payout", amount, currency, reference, instrument, knobs)
    row.update(status="pending", outcome="failed" if closed else "paid",
               failure_code="account_closed" if closed else None,
               delay_ms=knobs.payout_delay_ms)
    return await _insert(conn, row)


async def create_refund(conn: Conn, provider: str, *, charge_id: str, amount: int,
                        reference: str, knobs: Knobs) -> dict[str, Any]:
    """Succeeded at once; partial refunds add up to at most the charge amount. The charge row
    is locked, so two concurrent refunds cannot both fit in the same remainder."""
    cur = await conn.execute(
        "SELECT amount, currency, status FROM objects WHERE id = %s AND provider = %s "
        "AND kind = 'charge' FOR UPDATE", (charge_id, provider))
    charge = await cur.fetchone()
    if charge is None:
        raise Problem("not-found", f"no charge {charge_id}")
    if charge["status"] != "succeeded":
        raise Problem("charge-not-refundable", f"charge {charge_id} is {charge['status']}")
    cur = await conn.execute(
        "SELECT coalesce(sum(amount), 0) AS refunded FROM objects "
        "WHERE charge_id = %s AND status = 'succeeded'", (charge_id,))
    total = await cur.fetchone()
    refunded = int(total["refunded"]) if total else 0
    if refunded + amount > charge["amount"]:
        raise Problem("refund-exceeds-charge", f"charge {charge_id} is {charge['amount']}, "
                      f"{refunded} already refunded, {amount} more asked")
    row = _base(provider, "refund", amount, charge["currency"], reference, "", knobs)
    row.update(status="succeeded", outcome="succeeded", charge_id=charge_id)
    created = await _insert(conn, row)
    await emit(conn, created, "charge.refunded")
    return created


async def advance_due(conn: Conn) -> int:
    """Move every pending object whose time has come to its outcome, one event each. SKIP
    LOCKED: two simulators on one database never move (and announce) the same object twice."""
    cur = await conn.execute(
        f"UPDATE objects o SET status = o.outcome, settled_at = now(), fee = CASE "
        f"WHEN o.outcome = 'succeeded' THEN o.amount * 29 / 1000 + 25 "
        f"WHEN o.outcome = 'paid' THEN {PAYOUT_FEE} ELSE 0 END "
        f"WHERE o.id IN (SELECT id FROM objects WHERE status = 'pending' AND due_at <= now() "
        f"FOR UPDATE SKIP LOCKED) RETURNING {COLUMNS}")
    moved = [dict(r) for r in await cur.fetchall()]
    for row in moved:
        await emit(conn, row, f"{row['kind']}.{row['status']}")
    return len(moved)


def public(row: dict[str, Any]) -> dict[str, Any]:
    """An engine row with JSON-safe values (timestamps as ISO 8601)."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


async def emit(conn: Conn, row: dict[str, Any], event_type: str) -> None:
    """Record the event and queue its deliveries as the object's webhook knobs say."""
    knobs = row["knobs"]
    cur = await conn.execute(
        "INSERT INTO events (id, provider, object_id, reference, type, payload) "
        "VALUES (%s, %s, %s, %s, %s, %s) RETURNING seq",
        (EVENT_PREFIX[row["provider"]] + secrets.token_hex(12), row["provider"], row["id"],
         row["reference"], event_type, Jsonb(public(row))))
    inserted = await cur.fetchone()
    assert inserted is not None
    seq = inserted["seq"]
    state = ("lost" if knobs.get("lose_webhooks") else
             "held" if knobs.get("reorder") else "pending")
    for copy in range(1 + int(knobs.get("duplicate_deliveries", 0))):
        await conn.execute(
            "INSERT INTO deliveries (event_seq, copy, state, wrong_signature, "
            "clock_skew_seconds, held_since) VALUES (%s, %s, %s, %s, %s, "
            "CASE WHEN %s = 'held' THEN now() END)",
            (seq, copy, state, bool(knobs.get("wrong_signature")),
             int(knobs.get("clock_skew_seconds", 0)), state))


async def find(conn: Conn, provider: str, kind: str, *, object_id: str | None = None,
               reference: str | None = None) -> list[dict[str, Any]]:
    cur = await conn.execute(
        f"SELECT {COLUMNS} FROM objects WHERE provider = %s AND kind = %s "
        f"AND (%s::text IS NULL OR id = %s) AND (%s::text IS NULL OR reference = %s) "
        f"ORDER BY created_at, id", (provider, kind, object_id, object_id, reference, reference))
    return [dict(r) for r in await cur.fetchall()]


async def settlement(conn: Conn, provider: str, day: date) -> list[dict[str, Any]]:
    """Every succeeded charge and refund and every paid payout that settled on `day` (UTC),
    whatever happened to its webhooks. net: what the merchant balance moves by."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    cur = await conn.execute(
        "SELECT kind, id, reference, amount, fee, status, settled_at, currency FROM objects "
        "WHERE provider = %s AND settled_at >= %s AND settled_at < %s "
        "AND status IN ('succeeded', 'paid') ORDER BY settled_at, id",
        (provider, start, start + timedelta(days=1)))
    lines = []
    for r in await cur.fetchall():
        net = r["amount"] - r["fee"] if r["kind"] == "charge" else -r["amount"] - r["fee"]
        lines.append({"type": r["kind"], "id": r["id"], "reference": r["reference"],
                      "amount": r["amount"], "fee": r["fee"], "net": net, "status": r["status"],
                      "currency": r["currency"], "occurred_at": r["settled_at"].isoformat()})
    return lines
