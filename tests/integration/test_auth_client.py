"""The lab's own client auth (lab-driver, client_credentials) against a real API process of the
draft phase-4 composition: sync and async clients, one grant shared by concurrent requests, a
stale or refused token replaced and the request retried once, body included."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fintech_core.auth.client import LabAuthError, LabDriverAuth, _Token, lab_client_auth
from fintech_core.auth.seed import seeded_path
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from tests.integration.auth_support import api_process, phase4_settings, seeded_database

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def settings(lab: Lab) -> Iterator[Settings]:
    with tempfile.TemporaryDirectory(prefix="fincore-client-") as d:
        s = phase4_settings(lab, "client", Path(d))
        with seeded_database(s):
            yield s


@pytest.fixture(scope="module")
def api(lab: Lab, settings: Settings) -> Iterator[str]:
    with api_process(lab, settings) as url:
        yield url


def driver(settings: Settings, api: str) -> LabDriverAuth:
    auth = lab_client_auth(settings, api)
    assert isinstance(auth, LabDriverAuth)
    return auth


def test_a_sync_client_authenticates_as_the_lab_driver_with_one_grant(
        settings: Settings, api: str) -> None:
    auth = driver(settings, api)
    with httpx.Client(base_url=api, auth=auth) as http:
        answers = [http.get("/_test/whoami") for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5, answers[0].text
    assert answers[0].json() == {"subject": "lab-driver", "roles": ["admin", "customer", "service"],
                                 "client": "service"}
    assert auth.grants == 1
    assert answers[0].headers["ratelimit-policy"] == '"per-service";q=1000;w=1'
    without = httpx.get(f"{api}/_test/whoami")
    assert without.status_code == 401  # the probe really requires the token


def test_concurrent_async_requests_share_one_grant(settings: Settings, api: str) -> None:
    auth = driver(settings, api)

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=api, auth=auth) as http:
            return await asyncio.gather(*[http.get("/_test/whoami") for _ in range(20)])

    answers = asyncio.run(run())
    assert {a.status_code for a in answers} == {200}
    assert auth.grants == 1
    again = asyncio.run(run())  # another event loop, same Auth: its token is still good
    assert {a.status_code for a in again} == {200} and auth.grants == 1


def test_a_refused_token_is_replaced_and_the_request_retried_once(settings: Settings,
                                                                   api: str) -> None:
    auth = driver(settings, api)
    auth._token = _Token("eyJhbGciOiJFUzI1NiJ9.e30.c2ln", time.monotonic() + 3600)  # refused
    with httpx.Client(base_url=api, auth=auth) as http:
        r = http.post("/_test/whoami", json={"amount": 125})
    assert r.status_code == 200, r.text
    assert r.json() == {"subject": "lab-driver", "body": {"amount": 125}}  # body sent again
    assert [h.status_code for h in r.history] == [401]
    assert auth.grants == 1

    async def run() -> httpx.Response:
        auth._token = _Token("garbage", time.monotonic() + 3600)
        async with httpx.AsyncClient(base_url=api, auth=auth) as http:
            return await http.post("/_test/whoami", json={"n": 1})

    r = asyncio.run(run())
    assert r.status_code == 200 and r.json()["body"] == {"n": 1}
    assert auth.grants == 2


def test_a_token_near_its_expiry_is_not_used(settings: Settings, api: str) -> None:
    auth = driver(settings, api)
    with httpx.Client(base_url=api, auth=auth) as http:
        assert http.get("/_test/whoami").status_code == 200
        first = auth._token
        assert first is not None
        # expires_in is 300 s: the token counts as fresh until 30 s before that.
        assert 265 < first.fresh_until - time.monotonic() <= 270
        auth._token = _Token(first.value, time.monotonic() - 1)  # now within the margin
        r = http.get("/_test/whoami")
    assert r.status_code == 200 and r.history == []  # fetched before, not after a 401
    assert auth.grants == 2 and auth._token is not None and auth._token.value != first.value


def test_a_refused_grant_raises_instead_of_sending_without_credentials(
        settings: Settings, api: str) -> None:
    auth = LabDriverAuth(f"{api}/auth/token", "lab-driver", "not-the-secret")
    with httpx.Client(base_url=api, auth=auth) as http, pytest.raises(
            LabAuthError, match=r"401.*invalid-client"):
        http.get("/_test/whoami")


def test_an_unseeded_lab_says_what_to_run(settings: Settings, api: str) -> None:
    empty = settings.model_copy(update={"lab_dir": Path(tempfile.gettempdir()) / "never-seeded"})
    with pytest.raises(FileNotFoundError, match="fcl auth seed"):
        lab_client_auth(empty, api)
    assert json.loads(seeded_path(settings).read_text())["identities"]["lab-driver"]["secret"]
