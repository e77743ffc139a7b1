"""Amount limits on the real PostgreSQL, phase 4 in-process (its ASGI app, the lab's driver's
token): N concurrent transfers against a daily limit that fits K -> exactly K succeed, one
transaction per request and in group-commit batches. Through real API processes:
test_daily_limit_concurrency.py."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import psycopg
import pytest

from fintech_core.api.app import build_app
from fintech_core.auth.seed import load_seeded
from fintech_core.bootstrap import bootstrap
from fintech_core.container import Container
from fintech_core.db.admin import drop_database
from fintech_core.stack.lab import Lab
from phases import composition
from tests.conftest import TEST_DB_PREFIX

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

_dbs = itertools.count()


@pytest.fixture(scope="module")
def db4(lab: Lab) -> Iterator[str]:
    prefix = f"{TEST_DB_PREFIX}_limits{next(_dbs)}"
    settings = lab.settings.model_copy(update={"database_url": lab.database_url(),
                                               "database_prefix": prefix, "phase": 4})
    url = Lab(settings).prepare_database(composition(4))
    yield url
    drop_database(lab.database_url(), settings.database_name())


@pytest.fixture(params=[False, True], ids=["per-request", "group-commit"])
async def api(request: pytest.FixtureRequest, lab: Lab, db4: str) -> AsyncIterator[Container]:
    prefix = db4.rsplit("/", 1)[1].removesuffix("_p4")
    settings = lab.settings.model_copy(update={
        "phase": 4, "database_url": lab.database_url(), "database_prefix": prefix,
        "db_pool_min": 1, "db_pool_max": 12, "group_commit": request.param})
    container = bootstrap(settings, composition(4))
    await container.open()
    try:
        yield container
    finally:
        await container.close()


async def open_funded(http: httpx.AsyncClient, owner: str, amount: int) -> str:
    account = (await http.post("/accounts", json={"owner": owner, "currency": "EUR"})).json()["id"]
    if amount:
        d = await http.post(f"/accounts/{account}/deposits", json={"amount": amount, "currency": "EUR"},
                            headers={"Idempotency-Key": uuid.uuid4().hex})
        assert d.status_code == 201, d.text
    return str(account)


def transfer(src: str, dst: str, amount: int) -> dict[str, object]:
    return {"source_account_id": src, "destination_account_id": dst, "amount": amount,
            "currency": "EUR"}


async def test_the_pipeline_places_the_limit_steps(api: Container) -> None:
    names = api.composition.pipeline.names()
    assert names.index("check_amount_limits") == names.index("post_ledger") - 1
    assert names[-1] == "record_daily_outgoing"


async def as_driver(http: httpx.AsyncClient, api: Container) -> None:
    """Phase 4 verifies tokens: the lab's driver (a service client) logs in through the app."""
    secret = load_seeded(api.settings)["lab-driver"]["secret"]
    r = await http.post("/auth/token", data={"grant_type": "client_credentials",
                                             "client_id": "lab-driver", "client_secret": secret})
    assert r.status_code == 200, r.text
    http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"


async def send(http: httpx.AsyncClient, body: dict[str, object]) -> httpx.Response:
    """POST /transfers as a client is told to: a 503 (here: the rate limiter's Redis did not
    answer within its 250 ms budget, seen on a loaded 2-core box with 24 requests in one event
    loop) changed nothing, so the same request goes again with the same key."""
    key = uuid.uuid4().hex
    for _ in range(20):
        r = await http.post("/transfers", json=body, headers={"Idempotency-Key": key})
        if r.status_code != 503:
            return r
        await asyncio.sleep(float(r.headers.get("retry-after", "1")) / 5)
    return r


async def test_n_concurrent_transfers_against_a_daily_limit_that_fits_k(
        api: Container, db4: str) -> None:
    n, k, amount = 24, 7, 1_000
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(api)),
                                 base_url="http://t") as http:
        await as_driver(http, api)
        src = await open_funded(http, "limited", n * amount)
        dst = await open_funded(http, "payee", 0)
        with psycopg.connect(db4, autocommit=True) as sql:
            sql.execute("INSERT INTO account_limits (account_id, per_transfer_max, "
                        "daily_outgoing_max) VALUES (%s, %s, %s)", (src, 5_000, k * amount))
        answers = await asyncio.gather(*[send(http, transfer(src, dst, amount))
                                         for _ in range(n)])
        too_big = await send(http, transfer(src, dst, 5_001))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * k + [422] * (n - k), [a.text for a in answers if a.status_code >= 500]
    refused = {a.json()["code"] for a in answers if a.status_code == 422}
    assert refused == {"daily-limit-exceeded"}
    assert too_big.status_code == 422 and too_big.json()["code"] == "transfer-limit-exceeded"
    with psycopg.connect(db4, autocommit=True) as sql:
        (sent,) = sql.execute("SELECT amount FROM account_daily_outgoing WHERE account_id = %s",
                              (src,)).fetchone()  # type: ignore[misc]
        (moved,) = sql.execute(
            "SELECT count(*) FROM transfers WHERE source_id = %s AND status = 'COMPLETED'",
            (src,)).fetchone()  # type: ignore[misc]
        with pytest.raises(psycopg.errors.CheckViolation):  # the trigger: whoever writes
            sql.execute("UPDATE account_daily_outgoing SET amount = amount + 1 "
                        "WHERE account_id = %s", (src,))
    assert (sent, moved) == (k * amount, k)
    if api.group_commit is not None:
        assert api.group_commit.batches < n  # batches really formed
