"""POST /auth/token takes the standard form encoding (RFC 6749 §4) and JSON, on the real
database with the seeded identities; anything else is a 415 naming both."""

from __future__ import annotations

import base64
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote_plus

import httpx
import pytest

from fintech_core.api.app import build_app
from fintech_core.auth.seed import load_seeded
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from tests.integration.auth_support import asgi_client, opened, phase4_settings, seeded_database

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def settings(lab: Lab) -> Iterator[Settings]:
    with tempfile.TemporaryDirectory(prefix="fincore-tokenbody-") as d:
        s = phase4_settings(lab, "tokenbody", Path(d))
        with seeded_database(s):
            yield s


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with opened(settings) as container, asgi_client(build_app(container)) as client:
        yield client


def secret(settings: Settings, name: str) -> str:
    return load_seeded(settings)[name]["secret"]  # type: ignore[no-any-return]


async def test_a_form_and_json_get_the_same_kind_of_token(http: httpx.AsyncClient,
                                                          settings: Settings) -> None:
    params = {"grant_type": "password", "username": "alice",
              "password": secret(settings, "alice")}
    form = await http.post("/auth/token", data=params)
    assert form.status_code == 200, form.text
    assert form.request.headers["content-type"] == FORM
    as_json = await http.post("/auth/token", json=params)
    assert as_json.status_code == 200, as_json.text
    for r in (form, as_json):
        assert r.headers["cache-control"] == "no-store"
        assert r.json()["token_type"] == "Bearer" and r.json()["refresh_token"]
    refreshed = await http.post("/auth/token", data={
        "grant_type": "refresh_token", "refresh_token": form.json()["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    client = await http.post("/auth/token", data={
        "grant_type": "client_credentials", "client_id": "payments-worker",
        "client_secret": secret(settings, "payments-worker"), "scope": "ignored"})
    assert client.status_code == 200, client.text  # unknown parameters are ignored (§3.1)


async def test_client_credentials_in_http_basic(http: httpx.AsyncClient,
                                                settings: Settings) -> None:
    """RFC 6749 §2.3.1: id and secret form-urlencoded, then base64 of `id:secret`."""
    raw = f"{quote_plus('lab-driver')}:{quote_plus(secret(settings, 'lab-driver'))}"
    basic = {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}
    ok = await http.post("/auth/token", data={"grant_type": "client_credentials"}, headers=basic)
    assert ok.status_code == 200, ok.text
    both = await http.post("/auth/token", headers=basic, data={
        "grant_type": "client_credentials", "client_id": "lab-driver", "client_secret": "x"})
    assert both.status_code == 422 and both.json()["errors"][0]["type"] == "ambiguous_client"
    wrong = base64.b64encode(b"lab-driver:wrong").decode()
    refused = await http.post("/auth/token", data={"grant_type": "client_credentials"},
                              headers={"Authorization": f"Basic {wrong}"})
    assert refused.status_code == 401 and refused.json()["code"] == "invalid-client"


async def test_a_parameter_sent_twice_is_refused_not_resolved(http: httpx.AsyncClient) -> None:
    r = await http.post("/auth/token", content="grant_type=password&username=alice"
                        "&username=bob&password=x", headers={"Content-Type": FORM})
    assert r.status_code == 422 and r.json()["code"] == "validation-error"
    assert r.json()["errors"] == [{"loc": ["body", "username"], "type": "repeated",
                                   "msg": "sent more than once (RFC 6749 §3.2)"}]
    j = await http.post("/auth/token", content=b'{"grant_type": "password", "username": "a", '
                        b'"username": "b", "password": "x"}',
                        headers={"Content-Type": "application/json"})
    assert j.status_code == 422 and j.json()["errors"][0]["loc"] == ["body", "username"]


@pytest.mark.parametrize(("content", "content_type", "status", "code"), [
    (b"grant_type=password", "text/plain", 415, "unsupported-media-type"),
    (b"grant_type=password", None, 415, "unsupported-media-type"),
    (b'{"grant_type": ', "application/json", 400, "malformed-json"),
    (b"[1, 2]", "application/json", 422, "validation-error"),
    (b"grant_type=implicit", FORM, 422, "validation-error"),
    (b"grant_type=password&password=%FF%FE", FORM, 422, "validation-error"),
    (b"", None, 422, "validation-error"),
    (b"grant_type=password", FORM, 400, "unsupported-grant-type"),  # needs its own fields
])
async def test_bodies_that_are_refused(http: httpx.AsyncClient, content: bytes,
                                       content_type: str | None, status: int, code: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    r = await http.post("/auth/token", content=content, headers=headers)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert r.headers["content-type"] == "application/problem+json"
    if status == 415:
        assert r.headers["accept-post"] == f"{FORM}, application/json"


async def test_the_openapi_document_names_both_encodings(http: httpx.AsyncClient) -> None:
    op = (await http.get("/openapi.json")).json()["paths"]["/auth/token"]["post"]
    content = op["requestBody"]["content"]
    assert set(content) == {FORM, "application/json"}
    assert content[FORM]["schema"]["properties"]["grant_type"]["enum"] == [
        "password", "client_credentials", "refresh_token"]
    assert {"413", "415", "422"} <= set(op["responses"])
