"""The bench at phase 4: its clients authenticate as the lab's driver (bench/auth.py), the
raw-socket load generator sends one token for its run, the rate limiter refuses none of it, and a
token that would expire mid-run is never handed out. One real phase-4 API process, on a database
of its own with a short access-token TTL (so the "outlives the token" case is cheap to reach).
Speed is never asserted."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from fintech_core.bench import auth, checks
from fintech_core.bench.cpu import CpuMeter
from fintech_core.bench.runner import loadgen, seed
from fintech_core.db.admin import drop_database
from fintech_core.stack.api_server import ApiServer
from fintech_core.stack.client_auth import raw_token, token_claims
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port
from phases import composition
from tests.conftest import TEST_DB_PREFIX

pytestmark = pytest.mark.integration

TTL_S = 45


@pytest.fixture(scope="module")
def phase4(lab: Lab) -> Iterator[tuple[Lab, ApiServer, str]]:
    """(lab, API, database url) of a phase-4 API whose tokens live TTL_S seconds."""
    composed = composition(4)
    own = Lab(lab.settings.model_copy(update={"database_prefix": f"{TEST_DB_PREFIX}_benchauth"}))
    name = own.settings.model_copy(update={"phase": 4}).database_name()
    drop_database(lab.database_url(), name)
    db_url = own.prepare_database(composed)
    api = own.api(composed, port=free_port(), host="127.0.0.1", auth_access_ttl_seconds=TTL_S)
    api.start()
    try:
        auth.register(api.url(), composed, own.settings)
        yield own, api, db_url
    finally:
        auth.forget(api.url())
        api.stop()
        drop_database(lab.database_url(), name)


def test_seed_loadgen_and_checks_run_as_the_lab_driver_with_no_429(
        phase4: tuple[Lab, ApiServer, str]) -> None:
    own, api, db_url = phase4
    url = api.url()
    accounts = seed(url, 6)
    pid = api.running_pid()
    assert pid is not None
    meter = CpuMeter(pid, own)
    before, cpu_before = checks.ledger_state(db_url, accounts), meter.read()
    result = loadgen(url, "mixed", 4, 1.5, accounts)
    cpu = CpuMeter.per_request(cpu_before, meter.read(), result["requests"])
    after = checks.ledger_state(db_url, accounts)
    # Every request authenticated and allowed: only 200 (reads) and 201 (transfers).
    assert set(result["statuses"]) == {"200", "201"}, result["statuses"]
    assert result["statuses"]["201"] > 10
    verdict = checks.verify(before, after, result["statuses"]["201"],
                            checks.ledger_report(url))
    assert verdict == {"money_conserved": True, "no_negative_balance": True,
                       "one_transfer_per_201": True, "ledger_zero_drift": True, "ok": True}
    # The accounts are held by the driver; without its token they do not exist for the caller.
    assert httpx.get(f"{url}/accounts/{accounts[0]}", timeout=10).status_code == 401
    # The API's processes and PostgreSQL's spent CPU on the run; Redis did too (one GCRA
    # call per request), the limiter being on the request path.
    assert cpu["api"] and cpu["api"] > 0 and cpu["postgres"] and cpu["postgres"] > 0
    if own.redis is not None:
        assert cpu["redis"] is not None and cpu["redis"] > 0


def test_a_token_that_would_expire_mid_run_is_never_handed_to_the_load_generator(
        phase4: tuple[Lab, ApiServer, str]) -> None:
    url = phase4[1].url()
    driver = auth.auth_of(url)
    token = raw_token(driver, 5)
    claims = token_claims(token)
    assert claims["sub"] == "lab-driver" and claims["exp"] - claims["iat"] == TTL_S
    # A run longer than a token's whole lifetime cannot be covered: refused, not measured on 401s.
    with pytest.raises(ValueError, match="FINCORE_AUTH_ACCESS_TTL_SECONDS"):
        raw_token(driver, TTL_S + 1)
    with pytest.raises(ValueError):
        auth.loadgen_env(url, TTL_S)  # the run plus its slack outlives the token
    assert set(auth.loadgen_env(url, 1)) == {auth.TOKEN_ENV}


def test_the_load_generator_without_a_token_is_refused_401(
        phase4: tuple[Lab, ApiServer, str]) -> None:
    """The token really is what lets the bench in: the same run, unregistered, is refused
    whole: 401, and 429 once the anonymous flood spends 127.0.0.1's per-ip bucket. Last in
    the module: that bucket also serves the token endpoint."""
    url = phase4[1].url()
    accounts = seed(url, 2)
    auth.forget(url)
    try:
        result = loadgen(url, "uniform", 1, 0.5, accounts)
    finally:
        auth.register(url, composition(4), phase4[0].settings)
    assert "401" in result["statuses"], result["statuses"]
    assert set(result["statuses"]) <= {"401", "429"}, result["statuses"]
