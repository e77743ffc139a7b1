"""The provider simulator as the payment drills see it: its knobs (the faults), its delivery log,
and its settlement report (the provider's truth: what it charged and paid, whatever happened to
its webhooks). Also reconciliation, run in the drill's process against the stage's database.

The simulator is the session's phase-3 worker; its admin key is in the lab's secrets.json.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from fintech_core.drills.drill import DrillSkipped, Stage
from fintech_core.drills.inject import wait_for
from fintech_core.drills.timeline import Timeline
from fintech_core.provider_sim.secrets import load_or_create

PROVIDER = "ledgerpay"  # the drills' provider; the other one differs only in its adapter


class Simulator:
    def __init__(self, stage: Stage, timeline: Timeline) -> None:
        s = stage.lab.settings
        self.stage, self.timeline = stage, timeline
        self.url = f"http://{s.provider_host}:{s.provider_port}"
        self.lab_dir = s.lab_dir
        self.started = datetime.now(UTC).date()
        try:
            httpx.get(f"{self.url}/health", timeout=3).raise_for_status()
        except httpx.HTTPError as exc:
            raise DrillSkipped(f"no provider simulator answers at {self.url} ({exc})") from exc

    def _call(self, method: str, path: str, token: str, **kwargs: Any) -> Any:
        r = httpx.request(method, f"{self.url}{path}", timeout=15,
                          headers={"Authorization": f"Bearer {token}"}, **kwargs)
        r.raise_for_status()
        return r.json()

    def _admin(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._call(method, f"/_admin{path}", load_or_create(self.lab_dir).admin_key,
                          **kwargs)

    # --- faults ---------------------------------------------------------------------------------
    def knobs(self, why: str, **values: Any) -> None:
        self._admin("POST", "/knobs", json={"provider": PROVIDER, **values})
        said = ", ".join(f"{k}={v}" for k, v in values.items())
        self.timeline.log("provider", "fault", f"knobs {said}: {why}")

    def reset(self, why: str = "") -> None:
        self._admin("POST", "/reset")
        if why:
            self.timeline.log("provider", "note", f"knobs reset: {why}")

    # --- what it did ----------------------------------------------------------------------------
    def deliveries(self, reference: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._admin("GET", "/deliveries",
                                                  params={"reference": reference})
        return found

    def wait_delivered(self, references: list[str], copies: int, timeout: float = 30) -> None:
        """Until `copies` deliveries of these references exist and none is still pending or
        held (each delivered, lost, or out of retries)."""
        def done() -> bool:
            rows = [d for ref in references for d in self.deliveries(ref)]
            return len(rows) >= copies and all(d["state"] not in ("pending", "held")
                                               for d in rows)
        wait_for(f"{copies} webhook deliveries to finish", done, timeout)
        for ref in references:
            for d in self.deliveries(ref):
                codes = [a["status_code"] or a["error"] for a in d["attempts"]]
                self.timeline.log("provider", "note",
                                  f"webhook {d['type']} ({d['webhook_id'][:12]}…, copy "
                                  f"{d['copy']}): {d['state']}, answered {codes or 'never sent'}")

    def settlement(self, references: set[str]) -> list[dict[str, Any]]:
        """The report's lines for these references, over the days the drill spans (UTC)."""
        token = load_or_create(self.lab_dir).of(PROVIDER).api_key
        days, day, lines = [], self.started, []
        while day <= datetime.now(UTC).date():
            days.append(day)
            day += timedelta(days=1)
        for d in days:
            body = self._call("GET", f"/{PROVIDER}/v1/settlements/{d.isoformat()}", token)
            lines += [line for line in body["lines"] if line["reference"] in references]
        return lines

    def wait_until(self, what: str, predicate: Any, timeout: float = 30) -> None:
        started = time.monotonic()
        wait_for(what, predicate, timeout)
        self.timeline.log("drill", "note", f"waited {time.monotonic() - started:.1f} s for {what}")


def reconcile(stage: Stage, day: date | None = None) -> list[dict[str, Any]]:
    """`fcl payments reconcile` as a function, on the stage's database and simulator. Runs its
    event loop in a thread of its own, so it works under a notebook's running loop too."""
    from fintech_core.bootstrap import bootstrap
    from fintech_core.payments.reconcile import as_dicts
    from fintech_core.payments.reconcile import reconcile as run
    from fintech_core.payments.runtime import runtime_of

    settings = stage.lab.settings.model_copy(update={
        "database_url": stage.lab.database_url(), "phase": stage.phase})
    when = day or datetime.now(UTC).date()

    async def work() -> list[dict[str, Any]]:
        container = bootstrap(settings, stage.composition)
        await container.open()
        rt = runtime_of(container)
        try:
            return as_dicts(await run(rt, when, [PROVIDER]))
        finally:
            await rt.close()
            await container.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work()).result()
