"""The chaos checker on hand-made runs: silent on a clean one, loud on each kind of lie.

A checker that never fails proves nothing, so every invariant gets a run doctored to break it.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fintech_core.chaos.checker import check
from fintech_core.chaos.facts import Facts, KeyRow, TransferRow
from fintech_core.chaos.hooks import HookResult
from fintech_core.chaos.workload import settles
from fintech_core.ledger.chaos import _drift_is_zero, ledger_verify
from phases import composition

A, B = "acc-a", "acc-b"
REQ = {"source": A, "destination": B, "amount": 30}
BIG = {"source": A, "destination": B, "amount": 500}


def attempt(key: str, request: dict[str, Any], **outcome: Any) -> dict[str, Any]:
    return {"kind": "attempt", "key": key, "request": request, **outcome}


def clean_run() -> tuple[list[dict[str, Any]], Facts]:
    records = [
        {"kind": "run", "accounts": [A, B], "seeded_total": 200},
        {"kind": "snapshot", "t": 1.0, "sum": 200, "min": 70, "count": 2},
        attempt("k1", REQ, outcome="timeout"),
        attempt("k1", REQ, outcome="response", status=409, code="idempotency-key-in-flight"),
        attempt("k1", REQ, outcome="response", status=503, code="service-unavailable"),
        attempt("k1", REQ, outcome="response", status=201, transfer_id="t1", replayed=True),
        attempt("k2", BIG, outcome="response", status=422, code="insufficient-funds",
                transfer_id="t2"),
    ]
    facts = Facts(
        balances={A: 70, B: 130},
        transfers=[TransferRow("d1", "DEPOSIT", "COMPLETED", None, A, 100),
                   TransferRow("d2", "DEPOSIT", "COMPLETED", None, B, 100),
                   TransferRow("t1", "TRANSFER", "COMPLETED", A, B, 30),
                   TransferRow("t2", "TRANSFER", "FAILED", A, B, 500)],
        keys={"k1": KeyRow(201, "t1"), "k2": KeyRow(422, "t2")},
    )
    return records, facts


def kinds(records: list[dict[str, Any]], facts: Facts, **kw: Any) -> set[str]:
    return {v.kind for v in check(records, facts, **kw)}


def test_a_clean_run_has_no_violation() -> None:
    assert kinds(*clean_run()) == set()


def test_settling_rules() -> None:
    assert settles(201, None) and settles(422, "insufficient-funds") and settles(400, "x")
    assert not settles(409, "idempotency-key-in-flight") and not settles(503, None)
    assert settles(409, "account-frozen")


@pytest.mark.parametrize("field, value, expected", [
    ("sum", 199, "sum-changed"), ("count", 1, "sum-changed"), ("min", -1, "negative-balance")])
def test_a_bad_snapshot_is_caught(field: str, value: int, expected: str) -> None:
    records, facts = clean_run()
    records[1][field] = value
    assert kinds(records, facts) == {expected}


def test_money_created_in_the_database_is_caught() -> None:
    records, facts = clean_run()
    facts.balances[A] += 1000  # what `UPDATE accounts SET balance = balance + 1000` leaves
    assert kinds(records, facts) == {"sum-changed", "balance-drift"}


def test_a_second_debit_for_one_key_is_caught() -> None:
    records, facts = clean_run()
    facts.transfers.append(TransferRow("t3", "TRANSFER", "COMPLETED", A, B, 30))
    facts.balances.update({A: 40, B: 160})
    assert kinds(records, facts) == {"orphan-transfer", "duplicate-debit"}


@pytest.mark.parametrize("ended", ["PENDING", "COMPLETED", "VOIDED", "EXPIRED"])
def test_a_201_that_answered_a_hold_may_end_in_any_hold_state(ended: str) -> None:
    """Phase 5's review: 201 PENDING, then posted, voided or expired (never a plain debit)."""
    records, facts = clean_run()
    records.append(attempt("k3", REQ, outcome="response", status=201, transfer_id="h1"))
    facts.keys["k3"] = KeyRow(201, "h1")
    facts.transfers.append(TransferRow("h1", "TRANSFER", ended, A, B, 30, hold=True))
    if ended == "COMPLETED":
        facts.balances.update({A: 40, B: 160})
    assert kinds(records, facts) == set()


def test_a_hold_no_key_answered_and_a_plain_201_left_pending_are_caught() -> None:
    records, facts = clean_run()
    facts.transfers.append(TransferRow("h2", "TRANSFER", "VOIDED", A, B, 30, hold=True))
    assert kinds(records, facts) == {"orphan-transfer", "duplicate-debit"}
    records, facts = clean_run()
    facts.transfers[2] = TransferRow("t1", "TRANSFER", "PENDING", A, B, 30)  # not a hold
    facts.balances.update({A: 100, B: 100})
    assert "acknowledged-missing" in kinds(records, facts)


def test_two_different_answers_for_one_key_are_caught() -> None:
    records, facts = clean_run()
    records.append(attempt("k1", REQ, outcome="response", status=201, transfer_id="t9"))
    assert "conflicting-answers" in kinds(records, facts)


def test_an_acknowledged_transfer_missing_from_the_database_is_caught() -> None:
    records, facts = clean_run()
    records[5]["transfer_id"] = "t-never-written"  # a doctored log: the client "saw" another id
    assert kinds(records, facts) == {"acknowledged-missing", "key-record-mismatch"}


def test_an_acknowledged_transfer_with_another_amount_is_caught() -> None:
    records, facts = clean_run()
    records[5]["request"] = {**REQ, "amount": 31}
    assert "acknowledged-missing" in kinds(records, facts)


def test_an_unsettled_key_a_500_and_an_unexpected_answer_are_caught() -> None:
    records, facts = clean_run()
    records = [*records[:2], attempt("k1", REQ, outcome="timeout"),
               attempt("k1", REQ, outcome="response", status=500, code="internal-error"),
               attempt("k2", BIG, outcome="response", status=422, code="idempotency-key-reused")]
    got = kinds(records, facts)
    assert {"unsettled-key", "server-error", "unexpected-answer"} <= got


def test_a_stored_key_no_client_sent_is_caught() -> None:
    records, facts = clean_run()
    facts.keys["k-ghost"] = KeyRow(422, "t2")
    assert kinds(records, facts) == {"unknown-key"}


def test_the_naive_target_is_judged_on_balances_only() -> None:
    records, _ = clean_run()
    naive = Facts(balances={"1": 100.0, "2": 130.0})  # a lost update created 30
    got = kinds([r for r in records if r["kind"] != "attempt"], naive, keyed=False)
    assert got == {"sum-changed"}
    assert kinds(copy.deepcopy(records), Facts({"1": 70.0, "2": 130.0}), keyed=False) == set()


def test_hook_violations_are_reported_and_skips_are_not() -> None:
    records, facts = clean_run()
    hooks = [HookResult("ledger-verify", "violation", "drift: 200 {'drift': 5}"),
             HookResult("other", "skipped", "not here")]
    assert kinds(records, facts, hooks=hooks) == {"ledger-verify"}


def test_ledger_drift_reading() -> None:
    assert _drift_is_zero({"drift": 0}) and _drift_is_zero({"drift": []})
    assert _drift_is_zero({"ok": True}) and _drift_is_zero({"drift": {}, "ok": True})
    assert _drift_is_zero({"drift": 3}) is False and _drift_is_zero({"drift": [{"a": 1}]}) is False
    assert _drift_is_zero({"accounts": 3}) is None and _drift_is_zero([1]) is None
    # Phase 0 keeps no ledger, so it declares no such hook; phase 1 does, and later phases keep it.
    assert ledger_verify not in composition(0).chaos_hooks
    assert ledger_verify in composition(1).chaos_hooks and ledger_verify in composition().chaos_hooks
