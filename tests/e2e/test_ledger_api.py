"""Phase 1 over real HTTP: which routes exist per phase, Idempotency-Key on every money-moving
POST, problem+json for every refused transition, settle-on-read, as-of and statements."""

from __future__ import annotations

import time
from typing import Any

import httpx
import psycopg
import pytest

from tests.helpers import new_key, transfer_body

pytestmark = pytest.mark.e2e


def post(api: str, path: str, body: dict[str, Any] | None = None,
         key: str | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key or new_key()}
    return httpx.post(f"{api}{path}", json=body, headers=headers, timeout=30)


def account(api: str, funded: int = 0, credit_limit: int = 0, owner: str = "alice") -> str:
    r = httpx.post(f"{api}/accounts", json={"owner": owner, "currency": "EUR",
                                            "credit_limit": credit_limit})
    assert r.status_code == 201, r.text
    if funded:
        assert post(api, f"/accounts/{r.json()['id']}/deposits",
                    {"amount": funded, "currency": "EUR"}).status_code == 201
    return str(r.json()["id"])


def hold(api: str, a: str, b: str, amount: int, **extra: Any) -> dict[str, Any]:
    r = post(api, "/holds", {**transfer_body(a, b, amount), **extra})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == code and body["type"] == f"/problems/{code}" and body["status"] == status
    assert httpx.get(f"{r.request.url.scheme}://{r.request.url.netloc.decode()}"
                     f"/problems/{code}").status_code == 200
    return body  # type: ignore[no-any-return]


def test_ledger_routes_exist_only_from_phase_1(api0: str, api1: str,
                                             sql: psycopg.Connection) -> None:
    assert "ledger" in httpx.get(f"{api1}/health").json()["features"]
    tables = ("postings", "journal_entries", "ledger_accounts", "holds", "transfer_events")
    assert sql.execute("SELECT count(to_regclass(t)) FROM unnest(%s::text[]) AS t",
                       (list(tables),)).fetchone() == (0,)  # phase 0's database: no ledger
    for path in ("/ledger/verify", "/accounts/01a1ffa6-0000-7000-8000-000000000000/balance"):
        problem(httpx.get(f"{api0}{path}"), 404, "not-found")
        assert httpx.get(f"{api1}{path}").status_code in (200, 404)
    problem(post(api0, "/holds", {}), 404, "not-found")
    body = {"owner": "x", "currency": "EUR", "credit_limit": 100}
    problem(httpx.post(f"{api0}/accounts", json=body), 422, "validation-error")
    assert httpx.post(f"{api1}/accounts", json=body).status_code == 201
    spec0 = httpx.get(f"{api0}/openapi.json").json()["paths"]
    assert "/holds" not in spec0 and "/holds" in httpx.get(f"{api1}/openapi.json").json()["paths"]


def test_every_money_moving_post_needs_a_key_and_replays(api1: str) -> None:
    a, b = account(api1, funded=1000), account(api1, owner="bob")
    held = hold(api1, a, b, 100)["id"]
    done = post(api1, "/transfers", transfer_body(a, b, 10)).json()["id"]
    for path, body in ((f"/accounts/{a}/withdrawals", {"amount": 5, "currency": "EUR"}),
                       ("/holds", transfer_body(a, b, 5)), (f"/transfers/{held}/post", {}),
                       (f"/transfers/{held}/void", None), (f"/transfers/{done}/reversal", {})):
        problem(httpx.post(f"{api1}{path}", json=body), 400, "idempotency-key-missing")
    key = new_key()
    first = post(api1, f"/transfers/{held}/post", {"amount": 60}, key=key)
    again = post(api1, f"/transfers/{held}/post", {"amount": 60}, key=key)
    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true" and again.content == first.content
    problem(post(api1, f"/transfers/{held}/post", {"amount": 61}, key=key), 422,
            "idempotency-key-reused")
    assert httpx.get(f"{api1}/accounts/{a}/balance").json()["posted"] == 1000 - 10 - 60


def test_refused_transitions_are_problems_and_change_nothing(api1: str) -> None:
    a, b = account(api1, funded=1000), account(api1, owner="bob")
    voided = hold(api1, a, b, 300)["id"]
    assert post(api1, f"/transfers/{voided}/void").json()["status"] == "VOIDED"
    before = httpx.get(f"{api1}/accounts/{a}/balance").json()
    problem(post(api1, f"/transfers/{voided}/post"), 409, "transfer-not-pending")
    problem(post(api1, f"/transfers/{voided}/void"), 409, "transfer-not-pending")
    other = hold(api1, a, b, 200)["id"]
    problem(post(api1, f"/transfers/{other}/post", {"amount": 201}), 422, "post-exceeds-hold")
    problem(post(api1, f"/transfers/{other}/post", {"amount": 0}), 422, "validation-error")
    plain = post(api1, "/transfers", transfer_body(a, b, 1)).json()["id"]
    problem(post(api1, f"/transfers/{plain}/void"), 409, "not-a-hold")
    problem(post(api1, f"/transfers/{voided}/reversal"), 409, "transfer-not-reversible")
    problem(post(api1, "/transfers/01a1ffa6-0000-7000-8000-000000000000/post"), 404,
            "transfer-not-found")
    reversal = post(api1, f"/transfers/{plain}/reversal", {"reference": "refund"})
    assert reversal.status_code == 201 and reversal.json()["reverses_id"] == plain
    twice = problem(post(api1, f"/transfers/{plain}/reversal"), 409, "transfer-already-reversed")
    assert twice["reversed_by"] == reversal.json()["id"]
    after = httpx.get(f"{api1}/accounts/{a}/balance").json()
    assert after["posted"] == before["posted"] and after["reserved"] == 200


def test_an_expired_hold_reads_as_expired_with_its_history(api1: str) -> None:
    a, b = account(api1, funded=500), account(api1, owner="bob")
    held = hold(api1, a, b, 500, timeout_seconds=1)
    assert httpx.get(f"{api1}/accounts/{a}/balance").json()["available"] == 0
    time.sleep(1.3)
    assert httpx.get(f"{api1}/accounts/{a}/balance").json()["available"] == 500
    got = httpx.get(f"{api1}/transfers/{held['id']}").json()
    assert got["status"] == "EXPIRED"
    assert [h["to_status"] for h in got["history"]] == ["PENDING", "EXPIRED"]
    assert [e["kind"] for e in got["entries"]] == ["HOLD", "EXPIRE"]
    problem(post(api1, f"/transfers/{held['id']}/post"), 409, "transfer-not-pending")


def test_balance_as_of_and_the_statement_over_http(api1: str) -> None:
    a, b = account(api1, funded=1000), account(api1, owner="bob")
    before = httpx.get(f"{api1}/accounts/{a}/entries").json()["items"][0]["created_at"]
    for amount in (1, 2, 3, 4, 5):
        assert post(api1, "/transfers", transfer_body(a, b, amount)).status_code == 201
    past = httpx.get(f"{api1}/accounts/{a}/balance", params={"as_of": before}).json()
    assert past["posted"] == 1000 and past["as_of"] is not None
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = httpx.get(f"{api1}/accounts/{a}/entries", params=params).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [line["amount"] for line in seen] == [5, 4, 3, 2, 1, 1000]
    assert [line["balance_after"] for line in seen] == [985, 990, 994, 997, 999, 1000]
    problem(httpx.get(f"{api1}/accounts/{a}/entries", params={"cursor": "!!"}), 422,
            "validation-error")
    problem(httpx.get(f"{api1}/accounts/{a}/balance", params={"as_of": "yesterday"}), 422,
            "validation-error")
    details = httpx.get(f"{api1}/transfers/{seen[0]['transfer_id']}").json()
    assert [p["direction"] for p in details["entries"][0]["postings"]] == ["CREDIT", "DEBIT"]


def test_withdrawals_leave_through_a_named_system_account(api1: str) -> None:
    a = account(api1, funded=300)
    out = post(api1, f"/accounts/{a}/withdrawals", {"amount": 120, "currency": "EUR"})
    assert out.status_code == 201 and out.json()["destination_account_id"] is None
    names = {p["account_name"] for e in httpx.get(f"{api1}/transfers/{out.json()['id']}")
             .json()["entries"] for p in e["postings"]}
    assert names == {None, "@external:cash-out:EUR"}
    problem(post(api1, f"/accounts/{a}/withdrawals", {"amount": 181, "currency": "EUR"}), 422,
            "insufficient-funds")
    assert httpx.get(f"{api1}/accounts/{a}").json()["balance"] == 180  # the mirror


def test_verify_reports_zero_drift(api1: str) -> None:
    report = httpx.get(f"{api1}/ledger/verify").json()
    assert report["ok"] is True and report["drift"] == 0, report
    assert all(t["balanced"] for t in report["totals"])
