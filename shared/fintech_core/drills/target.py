"""What a drill plays against, as one small interface (the two targets are in `targets`).

`transfer` is the client under test: it goes through the fault proxy on a fresh connection and
logs what the client saw. Setup (accounts, funding, arming faults) goes straight to the API, so
a fault meant for the client never hits the drill's own plumbing. Each target maps the drill's
fault *places* to its own fault points (see `PLACES`).
"""

from __future__ import annotations

import time
import uuid
from typing import Any, ClassVar

import httpx

from fintech_core.drills.drill import Stage
from fintech_core.drills.ledger import LedgerFacts
from fintech_core.drills.timeline import Timeline
from fintech_core.drills.wording import Attempt, describe_error


class Target:
    side: ClassVar[str]
    TABLE: ClassVar[str]  # where its accounts live, for faults that lock a row
    PLACES: ClassVar[dict[str, str]]  # drill place -> this target's fault point

    def __init__(self, stage: Stage, timeline: Timeline, client_url: str) -> None:
        self.stage, self.timeline, self.client_url = stage, timeline, client_url
        self.accounts: dict[str, Any] = {}
        self.attempts: list[Attempt] = []
        self.run_id = uuid.uuid4().hex[:8]

    @property
    def label(self) -> str:
        return self.side

    # --- the client under test --------------------------------------------------------------
    def transfer(self, src: str, dst: str, amount: float, *, key: str | None = None,
                 timeout: float = 10.0, why: str = "") -> Attempt:
        path, body, headers = self._request(src, dst, amount, key)
        words = (f"POST {path} {amount:g} {src}→{dst}", self._key_text(key), why.strip())
        self.timeline.log("client", "request", " ".join(w for w in words if w))
        started = time.monotonic()
        try:
            with httpx.Client(base_url=self.client_url, timeout=timeout,
                              auth=self.stage.auth) as client:
                r = client.post(path, json=body, headers=headers)
            ms = (time.monotonic() - started) * 1000
            attempt = Attempt(r.status_code, None, ms, _json(r),
                              r.headers.get("idempotent-replayed") == "true")
            self.timeline.log("client", "answer", f"← {attempt.summary()}", status=r.status_code)
        except httpx.TransportError as exc:
            attempt = Attempt(None, describe_error(exc), (time.monotonic() - started) * 1000)
            self.timeline.log("client", "error", f"✗ {attempt.summary()}")
        self.attempts.append(attempt)
        return attempt

    # --- the drill's plumbing ---------------------------------------------------------------
    def setup(self, path: str, body: dict[str, Any], key: bool = False) -> Any:
        """POST straight to the API. Retries a 503: after a database fault the API's pool may
        hand out a dead connection once; the key (when the route takes one) makes it safe."""
        headers = {"Idempotency-Key": uuid.uuid4().hex} if key else {}
        for _ in range(20):
            r = httpx.post(f"{self.stage.url}{path}", json=body, headers=headers, timeout=15,
                           auth=self.stage.auth)
            if r.status_code != 503:
                break
            time.sleep(0.25)
        r.raise_for_status()
        return r.json() if r.content else None

    def arm(self, place: str, action: str, delay_ms: int = 0, times: int = 1) -> None:
        point = self.PLACES[place]
        self.setup("/_drill/faults", {"point": point, "action": action, "delay_ms": delay_ms,
                                      "times": times})
        what = f"{action} {delay_ms} ms" if action == "delay" else action
        self.timeline.log("api", "fault", f"armed {what} at {point}"
                          + (" on every hit" if times < 0 else f" ×{times}"))

    def clear_faults(self) -> None:
        httpx.delete(f"{self.stage.url}/_drill/faults", timeout=5, auth=self.stage.auth)

    def open_accounts(self, funded: dict[str, float]) -> None:
        raise NotImplementedError

    def facts(self) -> LedgerFacts:
        raise NotImplementedError

    def _request(self, src: str, dst: str, amount: float,
                 key: str | None) -> tuple[str, dict[str, Any], dict[str, str]]:
        raise NotImplementedError

    def _key_text(self, key: str | None) -> str:
        return f"(key {key[:8]})" if key else ""


def _json(r: httpx.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return r.text[:200]
