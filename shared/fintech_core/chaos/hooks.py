"""Phase-specific checks and faults that exist only when their code does. Never faked.

- Ledger verify (phase >= 1): used when the running API's /openapi.json has GET /ledger/verify.
  Contract assumed: 200 with a JSON object whose `drift` is 0 or empty (or, failing that, whose
  `ok` is true). Any other answer is reported as a violation, not ignored.
- Network faults: used when `fintech_core.drills.proxy` is importable and offers `FaultProxy`
  (upstream host/port, `start()`, `url`, `arm(mode, times=...)`, `stop()`, module `MODES`).
"""

from __future__ import annotations

import importlib
import importlib.util
import random
from dataclasses import dataclass
from typing import Any

import httpx

PROXY_MODULE = "fintech_core.drills.proxy"
VERIFY_PATH = "/ledger/verify"


@dataclass(frozen=True)
class HookResult:
    name: str
    status: str  # "ok", "violation" or "skipped"
    detail: str


def _drift_is_zero(body: Any) -> bool | None:
    if not isinstance(body, dict):
        return None
    if "drift" in body:
        drift = body["drift"]
        return not drift if isinstance(drift, list | dict) else drift == 0
    return bool(body["ok"]) if "ok" in body else None


def ledger_verify(api_url: str, phase: int) -> HookResult:
    if phase < 1:
        return HookResult("ledger-verify", "skipped", "phase 0 keeps no ledger")
    paths = httpx.get(f"{api_url}/openapi.json", timeout=10).json().get("paths", {})
    if VERIFY_PATH not in paths:
        return HookResult("ledger-verify", "skipped", f"the API has no GET {VERIFY_PATH}")
    r = httpx.get(f"{api_url}{VERIFY_PATH}", timeout=60)
    body = r.json() if r.headers.get("content-type", "").endswith("json") else r.text
    zero = _drift_is_zero(body) if r.status_code == 200 else False
    if zero:
        return HookResult("ledger-verify", "ok", "zero drift")
    why = "drift" if zero is False else "unrecognised answer"
    return HookResult("ledger-verify", "violation", f"{why}: {r.status_code} {str(body)[:300]}")


class NetworkFaults:
    """The drill proxy between some writers and the API; each injection breaks a few of the
    next connections in one of the proxy's modes."""

    def __init__(self, proxy: Any, modes: tuple[str, ...]) -> None:
        self.proxy, self.modes = proxy, modes

    @staticmethod
    def missing() -> str:
        return f"{PROXY_MODULE} is not in this tree"

    @classmethod
    def open(cls, host: str, port: int) -> tuple[NetworkFaults | None, str]:
        try:
            if importlib.util.find_spec(PROXY_MODULE) is None:
                return None, cls.missing()
        except ModuleNotFoundError:
            return None, cls.missing()
        module = importlib.import_module(PROXY_MODULE)
        try:
            proxy = module.FaultProxy(host, port).start()
            modes = tuple(m for m in module.MODES if m != "pass")
            return cls(proxy, modes), f"proxy at {proxy.url}"
        except (AttributeError, TypeError) as exc:
            return None, f"{PROXY_MODULE} has another interface ({exc})"

    @property
    def url(self) -> str:
        return str(self.proxy.url)

    def inject(self, rng: random.Random) -> str:
        mode, times = rng.choice(self.modes), rng.randint(2, 6)
        self.proxy.arm(mode, delay_ms=rng.choice((50, 300, 1500)), cut_bytes=rng.randint(0, 64),
                       times=times)
        return f"next {times} proxied connections: {mode}"

    def close(self) -> None:
        self.proxy.stop()
