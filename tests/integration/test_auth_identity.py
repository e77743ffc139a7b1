"""JwtIdentity on the real stack: tokens of the lab's issuer got from POST /auth/token (seeded
users, real PostgreSQL), and tokens of a real external OpenID Connect provider
(oidc-provider-mock, its own process, its own RSA key and JWKS), each refused with a 401 problem
and RFC 6750's WWW-Authenticate when they should be."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI, Request

from fintech_core.api.app import build_app
from fintech_core.auth.jwt_identity import JwtIdentity, jwt_identity
from fintech_core.auth.principals import ClientKind, Role
from fintech_core.auth.seed import load_seeded
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port
from tests.integration.auth_support import asgi_client, opened, phase4_settings, seeded_database

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

LAB_CLIENT_ID = "fincore-lab"  # the lab's client at the external provider: its tokens' `aud`


# --- a real external provider ---------------------------------------------------------------
class Provider:
    def __init__(self, port: int) -> None:
        self.issuer = f"http://127.0.0.1:{port}"
        self.jwks_url = f"{self.issuer}/jwks"
        self.process: subprocess.Popen[bytes] | None = None
        self.port = port

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.issuer}/.well-known/openid-configuration").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("oidc-provider-mock did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)

    def token(self, sub: str, client_id: str = LAB_CLIENT_ID) -> str:
        """An ID token for `sub` through the provider's authorization-code flow (the consent
        form posted as a browser would)."""
        redirect = "http://127.0.0.1/callback"
        consent = httpx.post(f"{self.issuer}/oauth2/authorize", data={"sub": sub}, params={
            "client_id": client_id, "redirect_uri": redirect, "response_type": "code",
            "scope": "openid", "state": "s"})
        assert consent.status_code == 302, consent.text
        query = urllib.parse.urlparse(consent.headers["location"]).query
        code = urllib.parse.parse_qs(query)["code"][0]
        grant = httpx.post(f"{self.issuer}/oauth2/token", auth=(client_id, "any"), data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect})
        assert grant.status_code == 200, grant.text
        return grant.json()["id_token"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    p = Provider(free_port())
    p.start()
    try:
        yield p
    finally:
        p.stop()


# --- the API, with a route that answers who the identity says is calling --------------------
@pytest.fixture(scope="module")
def lab_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="fincore-identity-") as d:
        yield Path(d)


@pytest.fixture(scope="module")
def settings(lab: Lab, lab_dir: Path, provider: Provider) -> Iterator[Settings]:
    s = phase4_settings(lab, "identity", lab_dir, oidc_issuer=provider.issuer,
                        oidc_audience=LAB_CLIENT_ID, oidc_jwks_url=provider.jwks_url)
    with seeded_database(s):
        yield s


def whoami_app(app: FastAPI, identity: JwtIdentity) -> FastAPI:
    @app.get("/_test/whoami-twice")
    async def whoami(request: Request) -> dict[str, Any]:
        first = await identity.authenticate(request)
        again = await identity.authenticate(request)  # the route's `require` after the limiter
        return {"subject": first.subject, "roles": sorted(first.roles), "client": first.client,
                "same_object": first is again}

    return app


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with opened(settings) as container:
        app = whoami_app(build_app(container), jwt_identity(container))
        async with asgi_client(app) as client:
            yield client


async def login(http: httpx.AsyncClient, settings: Settings, user: str) -> str:
    password = load_seeded(settings)[user]["secret"]
    r = await http.post("/auth/token", data={"grant_type": "password", "username": user,
                                             "password": password})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_lab_token_names_its_user_and_is_verified_once_per_request(
        http: httpx.AsyncClient, settings: Settings) -> None:
    token = await login(http, settings, "sam")
    r = await http.get("/_test/whoami-twice", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json() == {"subject": "sam", "roles": [Role.SUPPORT], "client": ClientKind.USER,
                        "same_object": True}
    lower = await http.get("/_test/whoami-twice", headers={"Authorization": f"bearer {token}"})
    assert lower.status_code == 200  # the scheme is case-insensitive (RFC 9110 §11.1)


async def test_no_credentials_is_a_401_without_an_error_code(http: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Basic YWxpY2U6eA=="}, {"Authorization": "Bearer "}):
        r = await http.get("/_test/whoami-twice", headers=headers)
        assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"] == 'Bearer realm="fintech-core-lab"'  # RFC 6750 §3.1


@pytest.mark.parametrize(("token", "reason"), [
    ("not-a-jwt", "malformed"),
    (jwt.encode({"sub": "ada", "roles": ["admin"]}, key="", algorithm="none"),
     "algorithm-not-allowed"),
])
async def test_a_refused_token_says_invalid_token(http: httpx.AsyncClient, token: str,
                                                  reason: str) -> None:
    r = await http.get("/_test/whoami-twice", headers=bearer(token))
    assert r.status_code == 401 and r.json()["code"] == "token-invalid"
    assert r.json()["reason"] == reason
    assert r.headers["www-authenticate"] == (
        f'Bearer realm="fintech-core-lab", error="invalid_token", error_description="{reason}"')


async def test_a_token_of_the_external_provider_is_accepted(http: httpx.AsyncClient,
                                                            provider: Provider) -> None:
    token = provider.token("carol@example.test")
    r = await http.get("/_test/whoami-twice", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json() == {"subject": f"{provider.issuer}|carol@example.test",
                        "roles": [Role.CUSTOMER], "client": ClientKind.EXTERNAL,
                        "same_object": True}


async def test_an_external_token_for_another_client_is_refused(http: httpx.AsyncClient,
                                                               provider: Provider) -> None:
    token = provider.token("carol@example.test", client_id="someone-elses-app")
    r = await http.get("/_test/whoami-twice", headers=bearer(token))
    assert r.status_code == 401 and r.json()["reason"] == "wrong-audience"


async def test_a_token_signed_elsewhere_under_the_providers_issuer_is_refused(
        http: httpx.AsyncClient, provider: Provider) -> None:
    """`iss` picks the verifier before anything is checked: naming the provider as issuer in a
    token it never signed buys nothing but a refusal."""
    genuine = provider.token("carol@example.test")
    claims = jwt.decode(genuine, options={"verify_signature": False})
    from cryptography.hazmat.primitives.asymmetric import rsa
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode({**claims, "sub": "ada"}, forger, algorithm="RS256")
    r = await http.get("/_test/whoami-twice", headers=bearer(forged))
    assert r.status_code == 401 and r.json()["reason"] == "bad-signature"
    # And our own issuer's name on an external-looking token is checked by our verifier.
    ours = jwt.encode({**claims, "iss": "https://fintech-core-lab.local/auth"}, forger,
                      algorithm="RS256")
    r = await http.get("/_test/whoami-twice", headers=bearer(ours))
    assert r.status_code == 401 and r.json()["reason"] == "algorithm-not-allowed"


async def test_an_unreachable_jwks_is_a_401_not_a_500(settings: Settings) -> None:
    down = settings.model_copy(update={"oidc_jwks_url": f"http://127.0.0.1:{free_port()}/jwks"})
    other = Provider(free_port())  # a live provider whose keys this API cannot fetch
    other.start()
    try:
        token = other.token("carol@example.test")
        down = down.model_copy(update={"oidc_issuer": other.issuer})
        async with opened(down) as container:
            app = whoami_app(build_app(container), jwt_identity(container))
            async with asgi_client(app) as client:
                r = await client.get("/_test/whoami-twice", headers=bearer(token))
    finally:
        other.stop()
    assert r.status_code == 401 and r.json()["reason"] == "jwks-unreachable"


def test_a_half_configured_provider_fails_at_start(settings: Settings) -> None:
    from fintech_core.auth.jwt_identity import oidc_provider
    with pytest.raises(ValueError, match="FINCORE_OIDC_ISSUER"):
        oidc_provider(settings.model_copy(update={"oidc_jwks_url": None}))
    assert oidc_provider(settings.model_copy(update={
        "oidc_issuer": None, "oidc_audience": None, "oidc_jwks_url": None})) is None
