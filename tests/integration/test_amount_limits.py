"""Amount limits on the real PostgreSQL, with phase 4's draft manifest composed on top of the
registry (phase 4 is not registered yet): N concurrent transfers against a daily limit that fits
K -> exactly K succeed, one transaction per request and in group-commit batches."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import psycopg
import pytest

from fintech_core.api.app import build_app
from fintech_core.bootstrap import bootstrap
from fintech_core.container import Container
from fintech_core.db.admin import drop_database
from fintech_core.stack.lab import Lab
from phases import REGISTRY
from phases.phase04_auth import PHASE as DRAFT_PHASE_4
from tests.conftest import TEST_DB_PREFIX

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

DRAFT = REGISTRY.with_phase(DRAFT_PHASE_4)
_dbs = itertools.count()


@pytest.fixture(scope="module")
def db4(lab: Lab) -> Iterator[str]:
    prefix = f"{TEST_DB_PREFIX}_limits{next(_dbs)}"
    settings = lab.settings.model_copy(update={"database_url": lab.database_url(),
                                               "database_prefix": prefix, "phase": 4})
    url = Lab(settings).prepare_database(DRAFT.composition(4))
    yield url
    drop_database(lab.database_url(), settings.database_name())


@pytest.fixture(params=[False, True], ids=["per-request", "group-commit"])
async def api(request: pytest.FixtureRequest, lab: Lab, db4: str) -> AsyncIterator[Container]:
    prefix = db4.rsplit("/", 1)[1].removesuffix("_p4")
    settings = lab.settings.model_copy(update={
        "phase": 4, "database_url": lab.database_url(), "database_prefix": prefix,
        "db_pool_min": 1, "db_pool_max": 12, "group_commit": request.param})
    container = bootstrap(settings, DRAFT.composition(4))
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


async def test_n_concurrent_transfers_against_a_daily_limit_that_fits_k(
        api: Container, db4: str) -> None:
    n, k, amount = 24, 7, 1_000
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(api)),
                                 base_url="http://t") as http:
        src = await open_funded(http, "limited", n * amount)
        dst = await open_funded(http, "payee", 0)
        with psycopg.connect(db4, autocommit=True) as sql:
            sql.execute("INSERT INTO account_limits (account_id, per_transfer_max, "
                        "daily_outgoing_max) VALUES (%s, %s, %s)", (src, 5_000, k * amount))
        answers = await asyncio.gather(*[
            http.post("/transfers", json=transfer(src, dst, amount),
                      headers={"Idempotency-Key": uuid.uuid4().hex}) for _ in range(n)])
        too_big = await http.post("/transfers", json=transfer(src, dst, 5_001),
                                  headers={"Idempotency-Key": uuid.uuid4().hex})
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
