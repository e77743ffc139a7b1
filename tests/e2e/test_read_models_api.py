"""Phase 2's read models over real HTTP: a phase-2 API process on a database of its own, the
relay and both consumers running against the real broker, so the activity and the audit trail
are filled by events, as in production. Then the routes are read back: newest first, paged
without repeats or gaps, in step with the ledger, one transfer's story in order, and
problem+json for what does not exist or breaks the documented contract."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port
from phases import composition
from tests.e2e.test_ledger_api import account, hold, post, problem
from tests.helpers import transfer_body
from tests.integration.events_support import EventsDb, events_db, running

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(lab: Lab) -> Iterator[tuple[str, EventsDb]]:
    """(API base URL, its database), with the relay and consumers running."""
    for db in events_db(lab):
        server = Lab(db.settings).api(composition(2), port=free_port(), host="127.0.0.1")
        server.start()
        try:
            with running(db):
                yield server.url(), db
        finally:
            server.stop()


def get(api: str, path: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{api}{path}", params=params, timeout=30)


def all_activity(api: str, account_id: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Every line, following next_cursor; and the number of pages it took."""
    lines: list[dict[str, Any]] = []
    cursor, pages = None, 0
    while True:
        r = get(api, f"/accounts/{account_id}/activity", limit=limit,
                **({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["account_id"] == account_id and len(body["items"]) <= limit
        lines += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return lines, pages


def test_activity_pages_newest_first_and_agrees_with_the_ledger(
        stack: tuple[str, EventsDb]) -> None:
    api, db = stack
    a, b = account(api, funded=10_000), account(api, owner="bob")
    for amount in range(1, 8):
        assert post(api, "/transfers", transfer_body(a, b, amount)).status_code == 201
    held = hold(api, a, b, 500)["id"]
    db.wait_caught_up()

    lines, _ = all_activity(api, a, limit=200)
    # The deposit and 7 transfers move POSTED money; the hold only reserves (PENDING_OUT).
    assert len(lines) == 9
    keys = [(x["recorded_at"], x["entry_id"], x["bucket"]) for x in lines]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    def total(bucket: str) -> int:
        return sum(x["amount"] for x in lines if x["bucket"] == bucket)
    balance = get(api, f"/accounts/{a}/balance").json()
    assert total("POSTED") == balance["posted"] == 10_000 - 28
    assert -total("PENDING_OUT") == balance["reserved"] == 500
    assert [x["transfer_id"] for x in lines if x["bucket"] == "PENDING_OUT"] == [held]
    assert lines[0]["transfer_id"] == held  # the newest line first

    paged, pages = all_activity(api, a, limit=4)
    assert paged == lines and pages == 3  # 4 + 4 + 1: no repeat, no gap, no empty page
    first = get(api, f"/accounts/{a}/activity", limit=3).json()
    assert get(api, f"/accounts/{a}/activity", limit=3).json() == first  # a stable cursor
    assert all(x["amount"] > 0 for x in all_activity(api, b, 200)[0])  # bob only receives


def test_a_transfer_story_is_its_events_in_commit_order(stack: tuple[str, EventsDb]) -> None:
    api, db = stack
    a, b = account(api, funded=1_000), account(api, owner="bob")
    held = hold(api, a, b, 300)["id"]
    assert post(api, f"/transfers/{held}/post", {"amount": 200}).status_code == 200
    done = post(api, "/transfers", transfer_body(a, b, 50)).json()["id"]
    refused = post(api, "/transfers", transfer_body(b, a, 10**6))
    failed = problem(refused, 422, "insufficient-funds")["transfer_id"]
    db.wait_caught_up()

    story = get(api, f"/transfers/{held}/story")
    assert story.status_code == 200, story.text
    events = story.json()["events"]
    assert [e["event_type"] for e in events] == ["transfer.held.v1", "transfer.posted.v1"]
    assert all(e["correlation_id"] == held and e["payload"]["transfer_id"] == held
               for e in events)
    assert events[0]["occurred_at"] <= events[1]["occurred_at"]
    assert [e["event_type"] for e in get(api, f"/transfers/{done}/story").json()["events"]] \
        == ["transfer.completed.v1"]
    # A refused transfer exists (FAILED) but announced nothing: its story is empty, not a 404.
    assert get(api, f"/transfers/{failed}/story").json() == {"transfer_id": failed,
                                                            "events": []}


def test_unknown_ids_and_foreign_cursors_are_problems(stack: tuple[str, EventsDb]) -> None:
    api, _ = stack
    nobody = "01a1ffa6-0000-7000-8000-000000000000"
    problem(get(api, f"/accounts/{nobody}/activity"), 404, "account-not-found")
    problem(get(api, f"/transfers/{nobody}/story"), 404, "transfer-not-found")
    a = account(api)
    # Every cursor the documented pattern allows is accepted (it decodes to some position),
    # including one at the end of time; only strings outside the pattern are a 422.
    for foreign in ("_" * 34, "f" + "_" * 33, "g" + "A" * 33):
        r = get(api, f"/accounts/{a}/activity", cursor=foreign)
        assert r.status_code == 200 and r.json()["items"] == [], r.text
    for bad in ({"cursor": "x" * 33}, {"cursor": "not a cursor!"}, {"limit": 0},
                {"limit": 201}):
        problem(get(api, f"/accounts/{a}/activity", **bad), 422, "validation-error")
    problem(get(api, "/accounts/nope/activity"), 422, "validation-error")
    assert get(api, f"/accounts/{a}/activity").json() == {
        "account_id": a, "items": [], "next_cursor": None}


def test_the_openapi_documents_both_routes(stack: tuple[str, EventsDb]) -> None:
    api, _ = stack
    spec = httpx.get(f"{api}/openapi.json").json()
    for path, schema in (("/accounts/{account_id}/activity", "ActivityPage"),
                         ("/transfers/{transfer_id}/story", "TransferStory")):
        responses = spec["paths"][path]["get"]["responses"]
        assert responses["200"]["content"]["application/json"]["schema"]["$ref"].endswith(schema)
        assert {"404", "422"} <= set(responses)
    line = spec["components"]["schemas"]["ActivityLine"]["properties"]
    assert line["amount"]["type"] == "integer" and line["entry_id"]["format"] == "uuid"
