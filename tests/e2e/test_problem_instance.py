"""Every problem names its occurrence: `instance` is the request path, whatever produced it
(a recorded refusal and its replay, a validation error, the routing layer, the size caps)."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import new_key, open_account, transfer_body

pytestmark = pytest.mark.e2e


def test_a_recorded_refusal_and_its_replay_carry_instance(api0: str) -> None:
    a, b = open_account(api0, funded=100), open_account(api0)
    headers = {"Idempotency-Key": new_key()}
    first = httpx.post(f"{api0}/transfers", json=transfer_body(a, b, 500), headers=headers)
    replay = httpx.post(f"{api0}/transfers", json=transfer_body(a, b, 500), headers=headers)
    for r in (first, replay):
        assert r.status_code == 422 and r.json()["code"] == "insufficient-funds", r.text
        assert r.json()["instance"] == "/transfers"
    assert replay.headers["idempotent-replayed"] == "true"
    deposit = httpx.post(f"{api0}/accounts/{a}/deposits", json={"amount": 1, "currency": "GBP"},
                         headers={"Idempotency-Key": new_key()})
    assert deposit.json()["code"] == "currency-mismatch"
    assert deposit.json()["instance"] == f"/accounts/{a}/deposits"


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("POST", "/transfers", {"json": {}}),  # missing key: 400
    ("POST", "/transfers", {"json": {}, "headers": {"Idempotency-Key": "k"}}),  # 422
    ("GET", "/accounts/01a1ffa6-0000-7000-8000-000000000000", {}),  # 404 account
    ("GET", "/nowhere", {}),  # 404 route
    ("DELETE", "/accounts", {}),  # 405
    ("POST", "/accounts", {"content": b"{", "headers": {"content-type": "application/json"}}),
    ("POST", "/accounts", {"content": b"x" * 70_000}),  # 413
    ("GET", "/accounts", {"headers": {"X-Padding": "p" * 20_000}}),  # 431
])
def test_every_problem_carries_the_request_path_as_instance(
        api0: str, method: str, path: str, kwargs: dict[str, object]) -> None:
    r = httpx.request(method, f"{api0}{path}", **kwargs)  # type: ignore[arg-type]
    assert r.headers["content-type"] == "application/problem+json", r.text
    assert r.json()["instance"] == path
