"""The rate-limit middleware on the real stack: GCRA buckets in real Redis (the session's, and an
embedded Redis of this test's own that it stops), tokens from the real token endpoint, the
draft phase-4 app in-process. Small policies so that a burst is a handful of requests."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import redis
from fastapi import FastAPI
from starlette.middleware import Middleware

from fintech_core.api.app import build_app
from fintech_core.auth.seed import load_seeded
from fintech_core.auth.tokens import TokenVerifier
from fintech_core.limits import middleware as rl
from fintech_core.limits.middleware import RateLimitMiddleware
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port
from fintech_core.stack.redis import EmbeddedRedis
from tests.integration.auth_support import asgi_client, opened, phase4_settings, seeded_database

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SMALL = {"rate_limit_user_per_second": 1, "rate_limit_user_burst": 3,
         "rate_limit_service_per_second": 1, "rate_limit_service_burst": 5,
         "rate_limit_ip_per_second": 1, "rate_limit_ip_burst": 4}
PUBLIC = "/.well-known/jwks.json"  # a public GET: no token needed


@pytest.fixture(scope="module")
def settings(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    s = phase4_settings(lab, "ratelimit", tmp_path_factory.mktemp("ratelimit-lab"), **SMALL)
    with seeded_database(s):
        yield s


def limited(app: FastAPI) -> FastAPI:
    """The app with the limiter mounted exactly once: by the composition (phase 4 declares it),
    else here, innermost as a Phase.middleware is (inside the size cap and the 500 handler)."""
    if not any(m.cls is RateLimitMiddleware for m in app.user_middleware):
        app.user_middleware.append(Middleware(RateLimitMiddleware))
    return app


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    client = redis.Redis.from_url(settings.redis_url or "")
    stale = list(client.scan_iter(f"fcl:rl:{settings.database_name()}:*"))
    if stale:  # fresh buckets for each test (only this suite's keys: the Redis may be shared)
        client.delete(*stale)
    async with opened(settings) as container:
        the_app = limited(build_app(container))
        yield the_app
        state = getattr(the_app.state, "rate_limiter", None)
        if state is not None:
            await state.aclose()


async def token_for(app: FastAPI, settings: Settings, name: str) -> str:
    entry = load_seeded(settings)[name]
    body = ({"grant_type": "password", "username": name, "password": entry["secret"]}
            if entry["kind"] == "user" else
            {"grant_type": "client_credentials", "client_id": name,
             "client_secret": entry["secret"]})
    async with asgi_client(app, ip="10.9.9.9") as http:  # logins spend 10.9.9.9's bucket
        r = await http.post("/auth/token", data=body)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_an_address_gets_its_burst_then_429_with_the_ietf_fields(app: FastAPI) -> None:
    async with asgi_client(app, ip="10.0.0.1") as http:
        answers = [await http.get(PUBLIC) for _ in range(5)]
        other = await http.get(PUBLIC, headers={})
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert answers[0].headers["ratelimit-policy"] == '"per-ip";q=1;w=1'
    assert [a.headers["ratelimit"].split(";")[1] for a in answers[:4]] == ["r=3", "r=2", "r=1",
                                                                          "r=0"]
    refused = answers[4]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "rate-limited" and refused.json()["policy"] == "per-ip"
    assert int(refused.headers["retry-after"]) == 1
    assert other.status_code == 429  # the same address, still within the second
    async with asgi_client(app, ip="10.0.0.2") as elsewhere:
        assert (await elsewhere.get(PUBLIC)).status_code == 200


async def test_health_and_ready_are_never_limited(app: FastAPI) -> None:
    async with asgi_client(app, ip="10.0.0.3") as http:
        for _ in range(10):
            r = await http.get("/health")
            assert r.status_code == 200 and "ratelimit" not in r.headers


async def test_a_verified_user_spends_their_own_bucket_not_their_address(
        app: FastAPI, settings: Settings) -> None:
    alice, bob = await token_for(app, settings, "alice"), await token_for(app, settings, "bob")
    async with asgi_client(app, ip="10.0.0.4") as http:
        for_alice = [await http.get("/_test/whoami", headers=bearer(alice)) for _ in range(4)]
        assert [a.status_code for a in for_alice] == [200, 200, 200, 429]
        assert for_alice[0].headers["ratelimit-policy"] == '"per-user";q=1;w=1'
        assert for_alice[3].json()["policy"] == "per-user"
        # Same address: bob and an anonymous caller have their own buckets.
        assert (await http.get("/_test/whoami", headers=bearer(bob))).status_code == 200
        assert (await http.get(PUBLIC)).status_code == 200


async def test_a_service_client_gets_the_service_policy(app: FastAPI, settings: Settings) -> None:
    token = await token_for(app, settings, "lab-driver")
    async with asgi_client(app, ip="10.0.0.5") as http:
        answers = [await http.get("/_test/whoami", headers=bearer(token)) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[0].headers["ratelimit-policy"] == '"per-service";q=1;w=1'


async def test_an_unverified_sub_cannot_drain_someone_elses_bucket(app: FastAPI,
                                                                   settings: Settings) -> None:
    alice = await token_for(app, settings, "alice")
    claims = jwt.decode(alice, options={"verify_signature": False})
    forged = jwt.encode(claims, "not-our-key-" * 4, algorithm="HS256",
                        headers={"kid": jwt.get_unverified_header(alice)["kid"], "typ": "at+jwt"})
    async with asgi_client(app, ip="203.0.113.66") as attacker:
        answers = [await attacker.get("/_test/whoami", headers=bearer(forged)) for _ in range(6)]
    # The forger spends its own address's bucket (401s, then 429s), never alice's.
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429, 429]
    assert answers[4].json()["policy"] == "per-ip"
    async with asgi_client(app, ip="10.0.0.6") as http:
        r = await http.get("/_test/whoami", headers=bearer(alice))
    assert r.status_code == 200 and r.headers["ratelimit"].startswith('"per-user";r=2;')


async def test_a_token_is_verified_once_per_request(app: FastAPI, settings: Settings,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    token = await token_for(app, settings, "ada")
    calls: list[str] = []
    original = TokenVerifier.verify

    def counting(self: TokenVerifier, t: str) -> Any:
        calls.append(t)
        return original(self, t)

    monkeypatch.setattr(TokenVerifier, "verify", counting)
    async with asgi_client(app, ip="10.0.0.7") as http:
        r = await http.get("/_test/whoami", headers=bearer(token))
        assert r.status_code == 200 and r.json()["subject"] == "ada"
        assert calls == [token]  # the middleware's verification, reused by the route
        # A real route of the composition, behind require(...): still one verification.
        listed = await http.get("/accounts", headers=bearer(token))
    assert listed.status_code == 200, listed.text
    assert listed.headers["ratelimit-policy"] == '"per-user";q=1;w=1'
    assert calls == [token, token]


@pytest.fixture
def own_redis(server_dir: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(server_dir, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_redis_down_fails_writes_closed_and_reads_open(
        settings: Settings, own_redis: EmbeddedRedis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rl, "DOWN_FOR_S", 0.5)
    async with opened(settings.model_copy(update={"redis_url": own_redis.url()})) as container:
        app = limited(build_app(container))
        try:
            async with asgi_client(app, ip="10.0.0.8") as http:
                up = await http.get(PUBLIC)
                assert up.status_code == 200 and "ratelimit" in up.headers
                own_redis.stop()
                started = time.monotonic()
                move = await http.post("/transfers", json={"from_account_id": "x"},
                                       headers={"Idempotency-Key": "k-1"})
                assert move.status_code == 503, move.text
                assert move.json()["code"] == "rate-limiter-unavailable"
                assert move.headers["retry-after"] == "5"
                for method in ("PUT", "PATCH", "DELETE"):
                    r = await http.request(method, "/accounts/00000000-0000-0000-0000-000000000000")
                    assert r.status_code == 503, (method, r.text)
                read = await http.get(PUBLIC)
                assert read.status_code == 200 and "ratelimit" not in read.headers
                login = await http.post("/auth/token", data={"grant_type": "password",
                                                             "username": "alice", "password": "x"})
                assert login.status_code == 400  # the token endpoint still answers (its own throttle)
                assert time.monotonic() - started < 2  # the outage is remembered, not re-timed
                assert app.state.rate_limiter.outages == 1
                own_redis.start()
                time.sleep(0.6)  # past DOWN_FOR_S: the next request tries Redis again
                back = await http.get(PUBLIC)
                assert back.status_code == 200 and "ratelimit" in back.headers
                assert (await http.post("/transfers", json={})).status_code != 503
        finally:
            await app.state.rate_limiter.aclose()
