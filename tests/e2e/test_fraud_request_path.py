"""Phase 5's request path against a live API: the fraud decision within its budget, the review
queue on phase-1 holds, the declined transfer, who sees the rule, shadow mode, the fallbacks.

Every money assertion reads the ledger through the API (balances) and the decision through the
database (what was really stored). Customers are the seeded alice and bob (auth/seed.py); sam is
support, aud the auditor; the lab driver (a service client) funds the accounts and, being a
machine, is never scored by v1.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from fintech_core.auth.seed import load_seeded
from fintech_core.fraud.shadow_report import shadow_report
from fintech_core.stack.client_auth import client_auth_for
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port
from fintech_core.stack.session import LabSession
from phases import composition

pytestmark = pytest.mark.e2e

EUR = "EUR"
PHASE = 5
FUNDS = 100_000
# v1 (fraud/rulesets/v1.yaml) on fresh accounts funded with FUNDS: a small transfer passes;
# most of a fresh deposit sent on to a new beneficiary is a mule cash-out (block); a device
# moving money out of a fourth account within the hour is a device farm (review).
ALLOWED, REVIEWED, BLOCKED = 100, 3_000, 90_000
# The tests of verdicts run with a budget no loaded test machine reaches (the default 20 ms is
# easily passed on 2 shared cores, and the fallback would then answer): the budget has its own
# tests, with an engine slowed far past it.
VERDICT_BUDGET_MS = 10_000
# Feature windows of this module's own: the session's other customer traffic (all from
# 127.0.0.1) must not add v1's ip-velocity points to a verdict these tests assert.
OWN_WINDOWS = "fcl:fraud:test-request-path:"


class Patient(httpx.HTTPTransport):
    """Waits out the rate limiter (Retry-After) as a polite client does: these tests are about
    fraud decisions, and alice's bucket is shared by all of them."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for _ in range(5):
            response = super().handle_request(request)
            if response.status_code != 429:
                return response
            response.read()
            time.sleep(float(response.headers.get("Retry-After", "1")))
        return response


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


@dataclass
class Stack:
    """One API process: the lab driver's client, the people's clients, and the database."""

    url: str
    driver: httpx.Client  # the lab-driver service client: funds accounts (ledger:deposit)
    users: dict[str, httpx.Client]
    sql: Callable[..., list[tuple[Any, ...]]]

    def __getattr__(self, name: str) -> httpx.Client:
        return self.users[name]

    def funded(self, owner: str = "alice", amount: int = FUNDS) -> str:
        r = self.users[owner].post("/accounts", json={"owner": owner, "currency": EUR},
                                   headers=key())
        assert r.status_code == 201, r.text
        account = str(r.json()["id"])
        if amount:
            d = self.driver.post(f"/accounts/{account}/deposits",
                                 json={"amount": amount, "currency": EUR}, headers=key())
            assert d.status_code == 201 and d.json()["status"] == "COMPLETED", d.text
        return account

    def send(self, src: str, dst: str, amount: int, who: str = "alice",
             headers: dict[str, str] | None = None, device: str | None = None) -> httpx.Response:
        headers = {**(headers or key()), **({"X-Device-Id": device} if device else {})}
        return self.users[who].post("/transfers", headers=headers, json={
            "source_account_id": src, "destination_account_id": dst, "amount": amount,
            "currency": EUR})

    def reviewed(self) -> tuple[str, str, httpx.Response]:
        """A transfer v1 sends to review: the fourth account one device sends from this hour."""
        device, dst = f"farm-{uuid.uuid4()}", self.funded()
        for _ in range(3):
            r = self.send(self.funded(), dst, ALLOWED, device=device)
            assert r.status_code == 201 and r.json()["status"] == "COMPLETED", r.text
        src = self.funded()
        return src, dst, self.send(src, dst, REVIEWED, device=device)

    def posted(self, account: str) -> int:
        r = self.sam.get(f"/accounts/{account}/balance")
        assert r.status_code == 200, r.text
        return int(r.json()["posted"])

    def decision(self, transfer_id: str) -> tuple[Any, ...]:
        rows = self.sql("SELECT verdict, fallback, shadow_verdict FROM fraud_decisions"
                          " WHERE transfer_id = %s", (transfer_id,))
        assert len(rows) == 1, rows
        return rows[0]


def on(s: LabSession, url: str) -> Stack:
    secrets = load_seeded(s.lab.settings)
    users = {}
    for name in ("alice", "bob", "sam", "aud"):
        r = httpx.post(f"{url}/auth/token", data={
            "grant_type": "password", "username": name, "password": secrets[name]["secret"]})
        assert r.status_code == 200, r.text
        users[name] = httpx.Client(base_url=url, timeout=30, transport=Patient(),
                                   headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    driver = httpx.Client(base_url=url, timeout=30,
                          auth=client_auth_for(s.composition, s.lab.settings, url))
    return Stack(url, driver, users, s.sql)


@pytest.fixture(scope="module")
def session(lab: Lab) -> Iterator[LabSession]:
    with LabSession(composition(PHASE), settings=lab.settings, workers=(),
                    fraud_shadow_rules="v2", fraud_budget_ms=VERDICT_BUDGET_MS,
                    fraud_features_prefix=OWN_WINDOWS, hold_sweep_interval_seconds=0.2) as s:
        yield s


@pytest.fixture(scope="module")
def stack(session: LabSession) -> Stack:
    return on(session, session.url)


@pytest.fixture(scope="module")
def slow(session: LabSession) -> Iterator[Stack]:
    """A second API on the same database whose engine takes far longer than its budget."""
    yield from _other_api(session, fraud_engine_delay_ms=5_000, fraud_budget_ms=20)


@pytest.fixture(scope="module")
def failing(session: LabSession) -> Iterator[Stack]:
    yield from _other_api(session, fraud_engine_fail=True, fraud_fallback="review")


def _other_api(session: LabSession, **flags: object) -> Iterator[Stack]:
    api = session.lab.api(session.composition, port=free_port(), host="127.0.0.1",
                          drill_mode=True, **{"fraud_features_prefix": OWN_WINDOWS, **flags})
    api.start()
    try:
        yield on(session, api.url())
    finally:
        api.stop()


# --- allow, review, block -------------------------------------------------------------------

def test_an_allowed_transfer_completes_and_its_decision_is_stored(stack: Stack) -> None:
    src, dst = stack.funded(), stack.funded()
    r = stack.send(src, dst, ALLOWED)
    assert r.status_code == 201 and r.json()["status"] == "COMPLETED", r.text
    assert stack.decision(r.json()["id"])[:2] == ("allow", None)
    assert (stack.posted(src), stack.posted(dst)) == (FUNDS - ALLOWED, FUNDS + ALLOWED)


def test_a_reviewed_transfer_is_held_then_approved_moves_the_money_exactly_once(
        stack: Stack) -> None:
    src, dst, r = stack.reviewed()
    assert r.status_code == 201 and r.json()["status"] == "PENDING", r.text
    tid = r.json()["id"]
    assert stack.decision(tid)[0] == "review"
    before = stack.posted(dst)
    assert stack.posted(src) == FUNDS  # reserved, not moved
    queue = stack.sam.get("/fraud/reviews").json()
    item = next(i for i in queue if i["transfer_id"] == tid)
    assert (item["state"], item["amount"], item["source_account_id"]) == ("OPEN", REVIEWED, src)
    assert item["reasons"]
    # The customer cannot settle it around the review: posting her own hold is refused.
    own = stack.alice.post(f"/transfers/{tid}/post", headers=key())
    assert own.status_code == 409 and own.json()["code"] == "transfer-under-review", own.text
    approve = key()
    a = stack.sam.post(f"/fraud/reviews/{tid}/approve", headers=approve)
    assert a.status_code == 200 and a.json()["status"] == "COMPLETED", a.text
    replay = stack.sam.post(f"/fraud/reviews/{tid}/approve", headers=approve)
    assert replay.status_code == 200 and replay.headers.get("Idempotent-Replayed") == "true"
    again = stack.sam.post(f"/fraud/reviews/{tid}/approve", headers=key())
    assert again.status_code == 409 and again.json()["code"] == "review-not-open", again.text
    assert (stack.posted(src), stack.posted(dst)) == (FUNDS - REVIEWED, before + REVIEWED)
    risk = stack.aud.get(f"/transfers/{tid}").json()["risk"]
    assert risk["review"]["state"] == "APPROVED" and risk["review"]["decided_by"]


def test_a_rejected_review_voids_the_hold_and_moves_nothing(stack: Stack) -> None:
    src, dst, held = stack.reviewed()
    tid, before = held.json()["id"], stack.posted(dst)
    r = stack.sam.post(f"/fraud/reviews/{tid}/reject", headers=key())
    assert r.status_code == 200 and r.json()["status"] == "VOIDED", r.text
    assert (stack.posted(src), stack.posted(dst)) == (FUNDS, before)
    assert stack.sam.get(f"/accounts/{src}/balance").json()["reserved"] == 0
    assert stack.sam.post(f"/fraud/reviews/{tid}/approve", headers=key()).status_code == 409


def test_a_blocked_transfer_is_declined_recorded_failed_and_replayed(stack: Stack) -> None:
    src, dst = stack.funded(), stack.funded()
    same = key()
    r = stack.send(src, dst, BLOCKED, headers=same)
    body = r.json()
    assert r.status_code == 422 and body["code"] == "transfer-declined", r.text
    assert not {"reasons", "risk", "score", "rule_id"} & set(body)  # the client learns no rule
    tid = body["transfer_id"]
    t = stack.alice.get(f"/transfers/{tid}").json()
    assert (t["status"], t["failure_code"], t["risk"]) == ("FAILED", "transfer-declined", None)
    assert stack.decision(tid)[0] == "block"
    replay = stack.send(src, dst, BLOCKED, headers=same)
    assert replay.status_code == 422 and replay.json()["transfer_id"] == tid
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert (stack.posted(src), stack.posted(dst)) == (FUNDS, FUNDS)


# --- who sees the rule ----------------------------------------------------------------------

def test_the_customer_sees_risk_null_the_auditor_the_rule_and_reason(stack: Stack) -> None:
    tid = stack.reviewed()[2].json()["id"]
    assert stack.alice.get(f"/transfers/{tid}").json()["risk"] is None
    risk = stack.aud.get(f"/transfers/{tid}").json()["risk"]
    assert (risk["ruleset"], risk["verdict"], risk["fallback"]) == ("v1", "review", None)
    assert {(h["rule_id"], h["reason_code"]) for h in risk["reasons"]} >= {
        ("device-many-sources", "DEVICE_MANY_SOURCES")}
    assert risk["score"] >= 60 and risk["reasons"][0]["version"] >= 1
    assert risk["review"]["state"] == "OPEN" and risk["review"]["expires_at"]
    # A stranger to the transfer still gets the 404 of a missing one.
    assert stack.bob.get(f"/transfers/{tid}").status_code == 404
    # Only support and admin work the queue; only fraud:read sees the counts.
    assert stack.alice.get("/fraud/reviews").status_code == 403
    assert stack.aud.get("/fraud/reviews").status_code == 403
    assert stack.alice.get("/fraud/decisions/stats").status_code == 403
    assert stack.aud.post(f"/fraud/reviews/{tid}/approve", headers=key()).status_code == 403


def test_an_unknown_review_is_404(stack: Stack) -> None:
    r = stack.sam.post(f"/fraud/reviews/{uuid.uuid4()}/approve", headers=key())
    assert r.status_code == 404 and r.json()["code"] == "review-not-found", r.text


def test_the_shadow_verdict_is_stored_beside_the_unchanged_live_one(stack: Stack) -> None:
    # v2 is the candidate (FINCORE_FRAUD_SHADOW_RULES=v2 on this stack).
    src, dst = stack.funded(), stack.funded()
    tid = stack.send(src, dst, ALLOWED).json()["id"]
    verdict, fallback, shadow = stack.decision(tid)
    assert (verdict, fallback) == ("allow", None) and shadow is not None
    risk = stack.aud.get(f"/transfers/{tid}").json()["risk"]
    assert risk["shadow"]["ruleset"] == "v2" and risk["verdict"] == "allow"


def test_a_service_caller_is_never_reviewed_by_v1(stack: Stack) -> None:
    src = stack.funded(amount=0)
    r = stack.driver.post(f"/accounts/{src}/deposits", headers=key(),
                          json={"amount": BLOCKED * 10, "currency": EUR})
    assert r.status_code == 201 and r.json()["status"] == "COMPLETED", r.text
    assert stack.decision(r.json()["id"])[0] == "allow"


# --- a hold nobody reviews ------------------------------------------------------------------

def test_a_review_nobody_decides_expires_with_its_hold(session: LabSession) -> None:
    with_short_ttl = _other_api(session, fraud_review_ttl_seconds=1,
                                fraud_budget_ms=VERDICT_BUDGET_MS, hold_sweep_interval_seconds=0.2)
    stack = next(with_short_ttl)
    try:
        src, dst, held = stack.reviewed()
        tid, before = held.json()["id"], stack.posted(dst)
        _wait_for_expiry(stack, tid)
        risk = stack.aud.get(f"/transfers/{tid}").json()
        assert risk["status"] == "EXPIRED" and risk["risk"]["review"]["state"] == "EXPIRED"
        r = stack.sam.post(f"/fraud/reviews/{tid}/approve", headers=key())
        assert r.status_code == 409 and r.json()["state"] == "EXPIRED", r.text
        assert (stack.posted(src), stack.posted(dst)) == (FUNDS, before)
    finally:
        with_short_ttl.close()


def _wait_for_expiry(stack: Stack, tid: str) -> None:
    """Poll the database's own verdict (the hold's expiry is its clock's), up to 30 s."""
    for _ in range(300):
        rows = stack.sql("SELECT expires_at <= clock_timestamp() FROM holds"
                         " WHERE transfer_id = %s", (tid,))
        if rows and rows[0][0]:
            return
        stack.sql("SELECT pg_sleep(0.1)")
    raise AssertionError(f"hold {tid} never reached its expiry")


# --- the budget -----------------------------------------------------------------------------

def test_a_slow_engine_answers_every_transfer_with_the_fallback_and_counts_it(
        slow: Stack) -> None:
    src, dst = slow.funded(), slow.funded()  # the deposits are decided (and fall back) too
    before = slow.sam.get("/fraud/decisions/stats").json()["fallbacks"].get("budget-exceeded", 0)
    ids = []
    for amount in (ALLOWED, REVIEWED, BLOCKED):  # the fallback is allow: even a mule passes
        r = slow.send(src, dst, amount)
        assert r.status_code == 201 and r.json()["status"] == "COMPLETED", r.text
        ids.append(r.json()["id"])
    assert all(slow.decision(t)[:2] == ("allow", "budget-exceeded") for t in ids)
    stats = slow.sam.get("/fraud/decisions/stats").json()
    assert stats["fallbacks"]["budget-exceeded"] == before + 3
    total = ALLOWED + REVIEWED + BLOCKED
    assert (slow.posted(src), slow.posted(dst)) == (FUNDS - total, FUNDS + total)


def test_a_failing_engine_applies_the_fallback_engine_error(failing: Stack) -> None:
    src, dst = failing.funded(), failing.funded()
    r = failing.send(src, dst, ALLOWED)  # FINCORE_FRAUD_FALLBACK=review on this API
    assert r.status_code == 201 and r.json()["status"] == "PENDING", r.text
    assert failing.decision(r.json()["id"])[:2] == ("review", "engine-error")
    risk = failing.aud.get(f"/transfers/{r.json()['id']}").json()["risk"]
    assert risk["fallback"] == "engine-error" and risk["review"]["state"] == "OPEN"


def test_the_shadow_report_compares_what_was_stored(session: LabSession, stack: Stack) -> None:
    src, dst = stack.funded(), stack.funded()
    stack.send(src, dst, ALLOWED)
    stack.send(stack.funded(), stack.funded(), BLOCKED)  # v1 blocks a mule; v2 may not agree
    report = shadow_report(session.database_url, limit=10_000)
    [(compared, agreed)] = stack.sql(
        "SELECT count(*), count(*) FILTER (WHERE verdict = shadow_verdict) FROM fraud_decisions"
        " WHERE shadow_ruleset IS NOT NULL")
    assert (report.compared, report.agreed) == (compared, agreed) and compared >= 4
    assert sum(report.live.values()) == sum(report.shadow.values()) == compared
    assert len(report.disagreements) == compared - agreed
    assert all(d["live"] != d["shadow"] for d in report.disagreements)


def test_concurrent_transfers_keep_each_verdict_whatever_batch_they_share(stack: Stack) -> None:
    """Sent at once, the transfers may share a group-commit batch (FINCORE_GROUP_COMMIT, on by
    default): a review re-planned as a hold and a block recorded as FAILED in the middle of a
    batch change nothing for their neighbours."""
    device, farm_dst = f"farm-{uuid.uuid4()}", stack.funded()
    for _ in range(3):
        assert stack.send(stack.funded(), farm_dst, ALLOWED, device=device).status_code == 201
    review_src, mule_src, mule_dst = stack.funded(), stack.funded(), stack.funded()
    pairs = [(stack.funded(), stack.funded()) for _ in range(6)]
    calls: list[Callable[[], httpx.Response]] = [
        lambda: stack.send(review_src, farm_dst, REVIEWED, device=device),
        lambda: stack.send(mule_src, mule_dst, BLOCKED),
        *[(lambda s=s, d=d: stack.send(s, d, ALLOWED)) for s, d in pairs]]
    with ThreadPoolExecutor(len(calls)) as pool:
        answers = list(pool.map(lambda call: call(), calls))
    review, block, *allowed = answers
    assert review.status_code == 201 and review.json()["status"] == "PENDING", review.text
    assert block.status_code == 422 and block.json()["code"] == "transfer-declined", block.text
    assert all(a.status_code == 201 and a.json()["status"] == "COMPLETED" for a in allowed)
    assert stack.decision(review.json()["id"])[0] == "review"
    assert stack.decision(block.json()["transfer_id"])[0] == "block"
    assert stack.sam.get(f"/accounts/{review_src}/balance").json()["reserved"] == REVIEWED
    assert (stack.posted(mule_src), stack.posted(mule_dst)) == (FUNDS, FUNDS)
    assert [stack.posted(s) for s, _ in pairs] == [FUNDS - ALLOWED] * len(pairs)
