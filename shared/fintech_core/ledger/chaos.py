"""The ledger's chaos hook: after the run, the ledger's own verify must find zero drift.

Contract: GET /ledger/verify answers 200 with a JSON object whose `drift` is 0 or empty (or,
failing that, whose `ok` is true). Any other answer is reported as a violation, not ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from fintech_core.chaos.hooks import HookResult

if TYPE_CHECKING:
    from fintech_core.chaos.env import ChaosEnv

VERIFY_PATH = "/ledger/verify"


def _drift_is_zero(body: Any) -> bool | None:
    if not isinstance(body, dict):
        return None
    if "drift" in body:
        drift = body["drift"]
        return not drift if isinstance(drift, list | dict) else drift == 0
    return bool(body["ok"]) if "ok" in body else None


def ledger_verify(env: ChaosEnv) -> HookResult:
    api_url = env.api_url
    paths = httpx.get(f"{api_url}/openapi.json", timeout=10).json().get("paths", {})
    if VERIFY_PATH not in paths:
        return HookResult("ledger-verify", "skipped", f"the API has no GET {VERIFY_PATH}")
    r = httpx.get(f"{api_url}{VERIFY_PATH}", timeout=60, auth=env.auth)
    body = r.json() if r.headers.get("content-type", "").endswith("json") else r.text
    zero = _drift_is_zero(body) if r.status_code == 200 else False
    if zero:
        return HookResult("ledger-verify", "ok", "zero drift")
    why = "drift" if zero is False else "unrecognised answer"
    return HookResult("ledger-verify", "violation", f"{why}: {r.status_code} {str(body)[:300]}")
