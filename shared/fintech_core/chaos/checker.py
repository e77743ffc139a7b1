"""The invariants of a run, judged from the operation log and the database. Pure: no I/O.

- every snapshot and the final state: the sum of balances is the seeded total, none is negative;
- each key settled to exactly one outcome, every answer for it the same, and the stored
  idempotency record says the same thing the client was told;
- every acknowledged transfer (a 201 the client saw) is in the database with that id and request;
- no duplicate debit: COMPLETED transfers == keys whose answer was 201, and each COMPLETED
  transfer is the stored answer of a key; a 201 that answered a hold (a two-phase transfer, e.g.
  phase 5's review: 201 PENDING) counts apart: the hold may end COMPLETED, VOIDED or EXPIRED
  (or still be PENDING), and each hold is the stored answer of exactly one key (whether a
  PENDING answer was *allowed* is the declaring phase's hook to judge);
- each balance equals its deposits and transfers replayed (the phase-0 form of "no drift").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fintech_core.chaos.facts import Facts
from fintech_core.chaos.hooks import HookResult
from fintech_core.chaos.oplog import Record
from fintech_core.chaos.workload import settles

EXPECTED_ANSWERS = {(201, None), (422, "insufficient-funds")}
HOLD_STATES = {"PENDING", "COMPLETED", "VOIDED", "EXPIRED"}


@dataclass(frozen=True)
class Violation:
    kind: str
    detail: str


def check(records: Iterable[Record], facts: Facts, hooks: Iterable[HookResult] = (),
          keyed: bool = True) -> list[Violation]:
    records = list(records)
    run = next(r for r in records if r["kind"] == "run")
    out = _balances(run, [r for r in records if r["kind"] == "snapshot"], facts)
    if keyed:
        attempts: dict[str, list[Record]] = defaultdict(list)
        for r in records:
            if r["kind"] == "attempt":
                attempts[r["key"]].append(r)
        out += _keys(attempts, facts) + _replay(run, facts)
    out += [Violation(h.name, h.detail) for h in hooks if h.status == "violation"]
    return out


def _balances(run: Record, snapshots: list[Record], facts: Facts) -> list[Violation]:
    total, n, out = run["seeded_total"], len(run["accounts"]), []
    for s in snapshots:
        if s["sum"] != total or s["count"] != n:
            out.append(Violation("sum-changed", f"snapshot at {s['t']:.3f}: sum {s['sum']} over "
                                                f"{s['count']} accounts, seeded {total} over {n}"))
        if s["min"] is not None and s["min"] < 0:
            out.append(Violation("negative-balance", f"snapshot at {s['t']:.3f}: min {s['min']}"))
    final = sum(facts.balances.values())
    if final != total or len(facts.balances) != n:
        out.append(Violation("sum-changed", f"final: sum {final} over {len(facts.balances)} "
                                            f"accounts, seeded {total} over {n}"))
    out += [Violation("negative-balance", f"final: account {a} holds {b}")
            for a, b in facts.balances.items() if b < 0]
    return out


def _keys(attempts: dict[str, list[Record]], facts: Facts) -> list[Violation]:
    out: list[Violation] = []
    by_id = {t.id: t for t in facts.transfers}
    answered_201, answered_holds = 0, set[str]()
    for key, tries in attempts.items():
        answers = [a for a in tries if a["outcome"] == "response"]
        out += [Violation("server-error", f"key {key}: {a['status']} {a.get('code')}")
                for a in answers if a["status"] >= 500 and a["status"] != 503]
        definite = [a for a in answers if settles(a["status"], a.get("code"))]
        if not definite:
            out.append(Violation("unsettled-key", f"key {key}: {len(tries)} attempts, no answer"))
            continue
        seen = {(a["status"], a.get("transfer_id")) for a in definite}
        if len(seen) > 1:
            out.append(Violation("conflicting-answers", f"key {key}: {sorted(seen, key=str)}"))
        last = definite[-1]
        status, tid = last["status"], last.get("transfer_id")
        code = None if status == 201 else last.get("code")
        if (status, code) not in EXPECTED_ANSWERS:
            out.append(Violation("unexpected-answer", f"key {key}: {status} {code}"))
            continue
        held = by_id.get(tid or "")
        if status == 201 and held is not None and held.hold:
            answered_holds.add(held.id)
        else:
            answered_201 += status == 201
        row = facts.keys.get(key)
        if row is None or (row.status, row.transfer_id) != (status, tid):
            out.append(Violation("key-record-mismatch", f"key {key}: client saw {status} {tid}, "
                                                        f"stored {row}"))
        out += _acknowledged(key, last["request"], status, tid, by_id.get(tid or ""))
    completed = [t for t in facts.transfers if t.kind == "TRANSFER" and t.status == "COMPLETED"
                 and not t.hold]
    holds = [t for t in facts.transfers if t.kind == "TRANSFER" and t.hold]
    stored_201 = {k.transfer_id for k in facts.keys.values() if k.status == 201}
    out += [Violation("orphan-transfer", f"transfer {t.id} ({t.amount}) is {t.status} but no key "
                                         "settled to it") for t in completed + holds
            if t.id not in stored_201]
    if len(holds) != len(answered_holds):
        out.append(Violation("duplicate-debit", f"{len(holds)} holds, {len(answered_holds)} "
                                                "answered 201 by a key"))
    if len(completed) != answered_201:
        out.append(Violation("duplicate-debit", f"{len(completed)} COMPLETED transfers, "
                                                f"{answered_201} keys answered 201"))
    out += [Violation("unknown-key", f"key {k} is stored but no client sent it")
            for k in facts.keys.keys() - attempts.keys()]
    return out


def _acknowledged(key: str, request: dict[str, Any], status: int, tid: str | None,
                  row: Any) -> list[Violation]:
    want = ("COMPLETED" if status == 201 else "FAILED", request["source"], request["destination"],
            request["amount"])
    got = row and (row.status, row.source, row.destination, row.amount)
    if got and status == 201 and row.hold and row.status in HOLD_STATES:
        got = ("COMPLETED", *got[1:])  # a hold's 201: any of its states (see the docstring)
    if got != want:
        return [Violation("acknowledged-missing", f"key {key}: answered {status} {tid}, "
                                                  f"database has {got}")]
    return []


def _replay(run: Record, facts: Facts) -> list[Violation]:
    expected: dict[str, int] = dict.fromkeys(run["accounts"], 0)
    for t in facts.transfers:
        if t.status == "COMPLETED":
            expected[t.destination] = expected.get(t.destination, 0) + t.amount
            if t.source is not None:
                expected[t.source] = expected.get(t.source, 0) - t.amount
    return [Violation("balance-drift", f"account {a}: balance {facts.balances.get(a)}, "
                                       f"transfers replayed give {want}")
            for a, want in expected.items() if facts.balances.get(a) != want]
