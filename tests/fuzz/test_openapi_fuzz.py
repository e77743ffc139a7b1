"""Schemathesis against a real phase-0 API process, with every default check: no 5xx; status
codes, content types, headers and bodies as documented; invalid data rejected, valid data
accepted. Bounded and derandomized, so CI sees the same examples on every run.

The schema is built at collection time by the same app factory the server runs (nothing
connects: the pool opens in the lifespan), because schemathesis' lazy fixture loader does not
run on pytest 9; `test_the_fuzzed_schema_is_the_live_one` proves it equals the live
/openapi.json. The API runs production-shaped (no /naive baseline, no /_drill routes: fuzzing a
fault point would arm a crash) on its own database, since fuzzing opens many accounts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from phases.entrypoints import create_app
from tests.conftest import dedicated_api

pytestmark = pytest.mark.e2e


def _production_openapi() -> dict[str, Any]:
    unused = "postgresql://nobody@127.0.0.1:1/never"  # the pool is never opened here
    return create_app(Settings(phase=0, database_url=unused, naive_baseline=False,
                               drill_mode=False)).openapi()


OPENAPI = _production_openapi()
schema = schemathesis.openapi.from_dict(OPENAPI)


@pytest.fixture(scope="module")
def fuzz_api(lab: Lab) -> Iterator[str]:
    for api, _ in dedicated_api(lab, "fincore_test_fuzz"):
        yield api.url()


def test_the_fuzzed_schema_is_the_live_one(fuzz_api: str) -> None:
    assert httpx.get(f"{fuzz_api}/openapi.json").json() == OPENAPI


BUSINESS_REJECTIONS = {"same-account", "currency-mismatch", "unknown-currency",
                       "insufficient-funds", "idempotency-key-reused"}


# JSON Schema's `integer` admits 53.0 (its data model has no lexical form for numbers) and the
# fuzzer sends such values as "valid"; the API refuses an amount written with a fraction or an
# exponent on purpose (money is never written as a float; phase 1's article). The contract
# cannot say so, so that one refusal is not a contract breach; tests/e2e/test_request_bodies.py
# checks it.
DELIBERATELY_STRICTER = {"minor_units"}


def positive_data_accepted_or_refused_on_business_rules(
        ctx: schemathesis.CheckContext, response: schemathesis.Response,
        case: schemathesis.Case) -> bool | None:
    if response.status_code == 422 and case.meta and case.meta.generation.mode.is_positive:
        problem = response.json()
        if problem.get("code") in BUSINESS_REJECTIONS:
            return None
        errors = problem.get("errors") or []
        if errors and {e.get("type") for e in errors} <= DELIBERATELY_STRICTER:
            return None
    return positive_data_acceptance(ctx, response, case)


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi(case: schemathesis.Case, fuzz_api: str) -> None:
    case.call_and_validate(base_url=fuzz_api, timeout=30,
                           excluded_checks=[positive_data_acceptance],
                           additional_checks=[positive_data_accepted_or_refused_on_business_rules])
