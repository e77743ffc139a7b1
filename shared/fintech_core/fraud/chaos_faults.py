"""Phase 5's chaos faults: the fraud engine is slow, or fails, while the bank workload moves
money (chaos/faults.py has the contract).

- fraud-engine-slow: the next few decisions take longer than the budget; the engine answers
  with its fallback (`budget-exceeded`) instead of making the transfer wait;
- fraud-engine-failing: the next few decisions raise; the fallback again (`engine-error`).

Both turn the contract's drill knobs (fraud_engine_delay_ms, fraud_engine_fail) on the running
engine (fraud/drill_knobs.py), keep them for a second or few while the writers run, and turn
them off again: service restored before `inject` returns.

The first of them in a run also sets the scene the hooks judge: the API restarted with fallback
"review" and a short review expiry, so a failing engine fills the review queue even though the
lab's driver (a service caller) trips no v1 rule, and a reviewer (support, over the API)
approves some, rejects some and leaves the rest to expire.
"""

from __future__ import annotations

import random
import time

import httpx

from fintech_core.chaos.env import ChaosEnv
from fintech_core.fraud import chaos_support as sup
from fintech_core.fraud.chaos_reviewer import Reviewer

KNOBS = "/_drill/fraud-engine"


class _EngineFault:
    name = ""

    def available(self, env: ChaosEnv) -> str | None:
        if env.session is None:
            return "the reviewer needs the session's lab (its seeded support user)"
        try:
            r = httpx.get(f"{env.api_url}{KNOBS}", timeout=5, auth=env.auth)
        except httpx.HTTPError as exc:
            return f"the API does not answer ({exc})"
        return None if r.status_code == 200 else f"no {KNOBS} here (drill mode off?)"

    def begin(self, env: ChaosEnv) -> None:
        if sup.REVIEWER in env.measures:
            return  # the other engine fault set the scene already
        sup.review_scene(env)
        assert env.session is not None
        seed = int(env.options.get("seed", 7))
        env.measures[sup.REVIEWER] = Reviewer(env.api_url, env.session.lab.settings, seed).start()

    def quiesce(self, env: ChaosEnv) -> None:
        """The bank workload ended: stop reviewing (once) and wait (bounded) until every review
        hold of the run has ended, posted, voided or expired by the sweeper."""
        reviewer = sup.reviewer(env)
        if reviewer is None or reviewer.stopped.is_set():
            return
        reviewer.stop()
        began = time.monotonic()
        ended = sup.wait_holds_ended(env)
        env.measures["fraud.holds_ended_after_s"] = (round(time.monotonic() - began, 1)
                                                     if ended else None)

    def end(self, env: ChaosEnv) -> None:
        reviewer = sup.reviewer(env)
        if reviewer is not None:
            reviewer.stop()

    def knobs(self, rng: random.Random) -> tuple[dict[str, object], str]:
        raise NotImplementedError

    def inject(self, env: ChaosEnv, rng: random.Random) -> str:
        body, what = self.knobs(rng)
        lasts = round(rng.uniform(1.0, 3.0), 1)
        with httpx.Client(base_url=env.api_url, timeout=5, auth=env.auth) as http:
            http.put(KNOBS, json=body).raise_for_status()
            time.sleep(lasts)  # the fault itself: the writers meet the engine this way
            http.put(KNOBS, json={"delay_ms": 0, "fail": False}).raise_for_status()
        return f"{what} for {lasts} s"


class EngineSlow(_EngineFault):
    name = "fraud-engine-slow"

    def knobs(self, rng: random.Random) -> tuple[dict[str, object], str]:
        delay = rng.choice((50, 100, 250))
        return {"delay_ms": delay}, f"the engine {delay} ms late (past its budget)"


class EngineFailing(_EngineFault):
    name = "fraud-engine-failing"

    def knobs(self, rng: random.Random) -> tuple[dict[str, object], str]:
        return {"fail": True}, "the engine raises"


CHAOS_FAULTS = (EngineSlow(), EngineFailing())
