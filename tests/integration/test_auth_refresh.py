"""The token endpoint on the real PostgreSQL, with phase 4's draft manifest composed on top of
the registry: refresh rotation with reuse detection, and the login throttle that slows an
attacker's address without locking the owner out from theirs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import psycopg
import pytest

from fintech_core.api.app import build_app
from fintech_core.auth.passwords import ScryptParams, hash_password
from fintech_core.auth.principals import Role
from fintech_core.bootstrap import bootstrap
from fintech_core.container import Container
from fintech_core.db.admin import drop_database
from fintech_core.stack.lab import Lab
from phases import REGISTRY
from phases.phase04_auth import PHASE as DRAFT_PHASE_4
from tests.conftest import TEST_DB_PREFIX

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

# Phase 4 is registered now: composing the manifest again would add a second phase 4.
DRAFT = (REGISTRY if any(p.slug == DRAFT_PHASE_4.slug for p in REGISTRY.phases)
         else REGISTRY.with_phase(DRAFT_PHASE_4))
PREFIX = f"{TEST_DB_PREFIX}_auth"
FAST = ScryptParams(log2_n=10)  # tests only: the stored parameters travel with the hash


@pytest.fixture(scope="module")
def db4(lab: Lab) -> Iterator[str]:
    settings = lab.settings.model_copy(update={"database_url": lab.database_url(),
                                               "database_prefix": PREFIX, "phase": 4})
    url = Lab(settings).prepare_database(DRAFT.composition(4), seed=False)  # its own alice
    with psycopg.connect(url, autocommit=True) as sql:
        sql.execute("INSERT INTO auth_users (username, password_hash, roles) VALUES (%s, %s, %s)",
                    ("alice", hash_password("correct horse", FAST), [Role.CUSTOMER.value]))
    yield url
    drop_database(lab.database_url(), settings.database_name())


@pytest.fixture
async def api(lab: Lab, db4: str) -> AsyncIterator[Container]:
    settings = lab.settings.model_copy(update={
        "phase": 4, "database_url": lab.database_url(), "database_prefix": PREFIX,
        "db_pool_min": 1, "db_pool_max": 4})
    container = bootstrap(settings, DRAFT.composition(4))
    await container.open()
    try:
        yield container
    finally:
        await container.close()


def client(api: Container, ip: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(api), client=(ip, 4000)),
                             base_url="http://t")


async def token(http: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await http.post("/auth/token", json=body)


async def test_a_reused_refresh_token_revokes_its_whole_family(api: Container, db4: str) -> None:
    async with client(api, "10.0.0.1") as http:
        login = await token(http, grant_type="password", username="alice", password="correct horse")
        assert login.status_code == 200, login.text
        assert login.headers["cache-control"] == "no-store"
        r1 = login.json()["refresh_token"]
        rotated = await token(http, grant_type="refresh_token", refresh_token=r1)
        assert rotated.status_code == 200, rotated.text
        r2 = rotated.json()["refresh_token"]
        assert r2 != r1 and rotated.json()["token_type"] == "Bearer"
        replay = await token(http, grant_type="refresh_token", refresh_token=r1)
        assert replay.status_code == 400 and replay.json()["code"] == "refresh-token-reused"
        after = await token(http, grant_type="refresh_token", refresh_token=r2)
        assert after.status_code == 400 and after.json()["code"] == "invalid-grant"
        unknown = await token(http, grant_type="refresh_token", refresh_token="x" * 43)
        assert unknown.status_code == 400 and unknown.json()["code"] == "invalid-grant"
        jwks = (await http.get("/.well-known/jwks.json")).json()
    assert [k["alg"] for k in jwks["keys"]] == ["ES256"] and "d" not in jwks["keys"][0]
    with psycopg.connect(db4, autocommit=True) as sql:
        rows = sql.execute("SELECT revoked_reason, (SELECT count(*) FROM refresh_tokens t "
                           "WHERE t.family_id = f.id) FROM refresh_families f "
                           "WHERE subject = 'alice' ORDER BY created_at DESC LIMIT 1").fetchall()
        assert rows == [("reuse", 2)]
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
            sql.execute("UPDATE refresh_families SET revoked_at = NULL, revoked_reason = NULL "
                        "WHERE subject = 'alice'")


async def test_two_concurrent_exchanges_of_one_token_cannot_both_win(api: Container) -> None:
    async with client(api, "10.0.0.2") as http:
        login = await token(http, grant_type="password", username="alice", password="correct horse")
        r1 = login.json()["refresh_token"]
        answers = await asyncio.gather(*[token(http, grant_type="refresh_token", refresh_token=r1)
                                         for _ in range(4)])
        assert sorted(a.status_code for a in answers) == [200, 400, 400, 400]
        # The first loser detects the reuse and revokes the family; the later ones find it
        # revoked. Either way the winner's new token is dead too: a thief may have won.
        codes = [a.json()["code"] for a in answers if a.status_code == 400]
        assert codes.count("refresh-token-reused") == 1 and set(codes) <= {
            "refresh-token-reused", "invalid-grant"}
        winner = next(a for a in answers if a.status_code == 200).json()["refresh_token"]
        dead = await token(http, grant_type="refresh_token", refresh_token=winner)
        assert dead.status_code == 400 and dead.json()["code"] == "invalid-grant"


async def test_the_throttle_slows_the_attackers_address_not_the_owners(api: Container) -> None:
    async with client(api, "203.0.113.9") as attacker:
        for _ in range(5):
            wrong = await token(attacker, grant_type="password", username="alice", password="guess")
            assert wrong.status_code == 400 and wrong.json()["code"] == "invalid-grant"
        throttled = await token(attacker, grant_type="password", username="alice",
                                password="correct horse")  # even the right one waits
        assert throttled.status_code == 429 and throttled.json()["code"] == "login-throttled"
        assert int(throttled.headers["Retry-After"]) >= 1
    async with client(api, "198.51.100.7") as owner:
        ok = await token(owner, grant_type="password", username="alice", password="correct horse")
        assert ok.status_code == 200, ok.text
