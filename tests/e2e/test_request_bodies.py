"""Request bodies over real HTTP: JSON only (415 otherwise), and money as JSON integers only.

- A body sent as text/plain, as a form, or with no Content-Type is 415 `unsupported-media-type`
  with `Accept-Post: application/json`, on every route that takes a body; nothing changes.
- An amount written with a fraction or an exponent (2500.0, 1e3) and a member sent twice are
  422s naming the member, with a message that says to send integer minor units; nothing changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from tests.helpers import new_key, open_account, snapshot, transfer_body

pytestmark = pytest.mark.e2e


@pytest.fixture
def unchanged(sql: psycopg.Connection) -> Iterator[None]:
    before = snapshot(sql)
    yield
    assert snapshot(sql) == before, "a refused request changed the database"


@pytest.fixture(scope="module")
def pair(api0: str) -> tuple[str, str]:
    return open_account(api0, funded=10_000), open_account(api0)


def send(api: str, path: str, content: bytes | str, content_type: str | None) -> httpx.Response:
    headers = {"Idempotency-Key": new_key()}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return httpx.post(f"{api}{path}", content=content, headers=headers)


# --- 415 --------------------------------------------------------------------------------------


NOT_JSON = [("text/plain", "json text"), ("application/x-www-form-urlencoded", "form"),
            (None, "json without content-type"), ("text/plain", "empty text/plain")]


@pytest.mark.parametrize(("content_type", "what"), NOT_JSON, ids=[w for _, w in NOT_JSON])
def test_a_body_that_is_not_sent_as_json_is_415(
        api0: str, pair: tuple[str, str], unchanged: None, content_type: str | None,
        what: str) -> None:
    a, b = pair
    content = {"form": "amount=100&currency=EUR", "empty text/plain": ""}.get(
        what, json.dumps(transfer_body(a, b, 100)))
    for path in ("/transfers", f"/accounts/{a}/deposits", "/accounts"):
        r = send(api0, path, content, content_type)
        assert r.status_code == 415, (path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["accept-post"] == "application/json"
        problem = r.json()
        assert problem["code"] == "unsupported-media-type" and problem["status"] == 415
        assert problem["instance"] == path and "application/json" in problem["detail"]


def test_the_415_problem_type_is_documented(api0: str) -> None:
    r = httpx.get(f"{api0}/problems/unsupported-media-type")
    assert r.status_code == 200 and r.json()["status"] == 415
    operation = httpx.get(f"{api0}/openapi.json").json()["paths"]["/transfers"]["post"]
    assert "415" in operation["responses"]


def test_json_media_types_are_still_json_and_an_optional_body_may_be_absent(
        api1: str) -> None:
    a = httpx.post(f"{api1}/accounts", json={"owner": "x", "currency": "EUR"}).json()["id"]
    for content_type in ("application/json; charset=utf-8", "application/vnd.lab+json"):
        r = send(api1, f"/accounts/{a}/deposits", '{"amount": 5, "currency": "EUR"}',
                 content_type)
        assert r.status_code == 201, r.text
    b = httpx.post(f"{api1}/accounts", json={"owner": "y", "currency": "EUR"}).json()["id"]
    hold = httpx.post(f"{api1}/holds", json=transfer_body(a, b, 3),
                      headers={"Idempotency-Key": new_key()}).json()["id"]
    posted = httpx.post(f"{api1}/transfers/{hold}/post", headers={"Idempotency-Key": new_key()})
    assert posted.status_code == 200, posted.text  # no body, no Content-Type: post it all


# --- money as JSON integers -------------------------------------------------------------------


def raw_transfer(a: str, b: str, amount: str) -> str:
    return (f'{{"source_account_id": "{a}", "destination_account_id": "{b}", '
            f'"amount": {amount}, "currency": "EUR"}}')


@pytest.mark.parametrize("amount", ["2500.0", "1e3", "1E3", "2.5e3", "1000e0", "-0.0"])
def test_an_amount_with_a_fraction_or_an_exponent_is_refused(
        api0: str, pair: tuple[str, str], unchanged: None, amount: str) -> None:
    r = send(api0, "/transfers", raw_transfer(*pair, amount), "application/json")
    assert_refused_member(r, "amount")


def test_a_member_sent_twice_is_refused(
        api0: str, pair: tuple[str, str], unchanged: None) -> None:
    a, b = pair
    twice = raw_transfer(a, b, "1").replace('"currency"', '"amount": 900, "currency"')
    assert twice.count('"amount"') == 2
    assert_refused_member(send(api0, "/transfers", twice, "application/json"), "amount")
    deposit = '{"amount": 1, "currency": "EUR", "amount": 1}'  # even with equal values
    assert_refused_member(send(api0, f"/accounts/{b}/deposits", deposit, "application/json"),
                          "amount")


def test_the_key_is_still_checked_before_the_body(api0: str, pair: tuple[str, str]) -> None:
    r = httpx.post(f"{api0}/transfers", content=raw_transfer(*pair, "1e3"),
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "idempotency-key-missing"


def test_nan_and_infinity_are_not_json(api0: str, pair: tuple[str, str], unchanged: None) -> None:
    for constant in ("NaN", "Infinity", "-Infinity"):
        r = send(api0, "/transfers", raw_transfer(*pair, constant), "application/json")
        assert r.status_code == 400 and r.json()["code"] == "malformed-json", r.text


def test_credit_limits_and_post_amounts_are_integers_too(api1: str) -> None:
    r = send(api1, "/accounts", '{"owner": "x", "currency": "EUR", "credit_limit": 1e2}',
             "application/json")
    assert_refused_member(r, "credit_limit")
    r = send(api1, "/accounts/00000000-0000-7000-8000-000000000000/withdrawals",
             '{"amount": 10.0, "currency": "EUR"}', "application/json")
    assert_refused_member(r, "amount")


def assert_refused_member(r: httpx.Response, member: str) -> dict[str, Any]:
    assert r.status_code == 422, r.text
    problem: dict[str, Any] = r.json()
    assert problem["code"] == "validation-error"
    assert [e["loc"] for e in problem["errors"]] == [["body", member]], problem
    assert "integer minor units" in problem["errors"][0]["msg"]
    return problem
