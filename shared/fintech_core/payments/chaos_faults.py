"""Phase 3's chaos faults: the provider misbehaves while the bank workload moves money
(chaos/faults.py has the contract). Each arms one of the simulator's knobs for the next few
operations (`times`), runs a burst of top-ups and payouts through the API so the knob meets
real traffic, then resets the knobs: service restored before it returns.

- provider-timeout-before: the provider hangs without acting; the API's call times out (UNKNOWN),
  the worker polls, finds nothing and re-sends with the *same* key: one charge or none;
- provider-timeout-after: the provider acts (and sends its webhook), then hangs: UNKNOWN, settled
  by the webhook or the poll, never charged twice;
- duplicate-webhooks: every webhook delivered 2-4 times with the same id: one effect;
- reorder-webhooks: a resource's events held, then delivered newest-first: never backwards;
- lost-webhooks: events recorded (and in the settlement report) but never delivered: the
  reconciliation in the hooks must find and apply them, once.

The first provider fault of a run starts the simulator if the session has none, and the
payments workload (payments/chaos_workload.py), which runs until the hooks stop it.
"""

from __future__ import annotations

import random
import time
from typing import Any

from fintech_core.chaos.env import ChaosEnv
from fintech_core.payments import chaos_support as sup
from fintech_core.payments.chaos_workload import PaymentsWorkload
from fintech_core.stack.processes import wait_until

# How long a hung provider keeps the connection: past the adapter's timeout (provider_timeout_ms,
# 2 s by default), short enough that the simulator's connections come back soon.
HANG_MS = 3000


class _ProviderFault:
    name = ""

    def available(self, env: ChaosEnv) -> str | None:
        return sup.missing(env)

    def begin(self, env: ChaosEnv) -> None:
        sim = sup.simulator(env)
        if sup.WORKLOAD not in env.measures:
            sim.reset()
            seed = int(env.options.get("seed", 7))
            env.measures[sup.WORKLOAD] = PaymentsWorkload(
                env.api_url, f"chaos{int(env.run_started or 0)}", seed, auth=env.auth).start()

    def quiesce(self, env: ChaosEnv) -> None:
        """The bank workload ended: stop the payments workload (once), disarm the knobs, and
        wait (bounded) until the worker resolved every UNKNOWN and the simulator delivered or
        gave up every webhook, so every hook judges a still database."""
        work = sup.workload(env)
        if work is None or work.stopped.is_set():
            return
        work.stop()
        sim, bound = sup.simulator(env), env.options.get("drain_bound_s", 120.0)
        sim.reset()
        began = time.monotonic()
        quiet = wait_until(lambda: sim.undelivered() == 0
                           and sup.open_resources(env, work.accounts) == 0, bound, 0.5)
        env.measures["payments.quiet_after_s"] = (round(time.monotonic() - began, 1)
                                                  if quiet else None)

    def end(self, env: ChaosEnv) -> None:
        work = sup.workload(env)
        if work is not None:
            work.stop()
        sim = env.measures.pop(sup.SIM, None)  # a later look (a test's hook call) starts anew
        if sim is not None:
            sim.stop()

    def knobs(self, rng: random.Random) -> tuple[dict[str, Any], str]:
        raise NotImplementedError

    def inject(self, env: ChaosEnv, rng: random.Random) -> str:
        sim, work = sup.simulator(env), sup.workload(env)
        assert work is not None, "begin() starts the workload"
        times = rng.randint(2, 5)
        values, what = self.knobs(rng)
        sim.reset()
        sim.knobs(times=times, **values)
        try:
            work.burst(times + 2)
        finally:
            sim.reset()
        counted: dict[str, int] = env.measures.setdefault("payments.knob_operations", {})
        counted[self.name] = counted.get(self.name, 0) + times
        return f"{what} for the next {times} provider operations, with a burst of {times + 2}"


class TimeoutBefore(_ProviderFault):
    name = "provider-timeout-before"

    def knobs(self, rng: random.Random) -> tuple[dict[str, Any], str]:
        return {"timeout": "before", "hang_ms": HANG_MS}, "provider hangs before acting"


class TimeoutAfter(_ProviderFault):
    name = "provider-timeout-after"

    def knobs(self, rng: random.Random) -> tuple[dict[str, Any], str]:
        return {"timeout": "after", "hang_ms": HANG_MS}, "provider acts, then hangs"


class DuplicateWebhooks(_ProviderFault):
    name = "duplicate-webhooks"

    def knobs(self, rng: random.Random) -> tuple[dict[str, Any], str]:
        n = rng.randint(1, 3)
        return {"duplicate_deliveries": n}, f"each webhook delivered {n + 1} times"


class ReorderWebhooks(_ProviderFault):
    name = "reorder-webhooks"

    def knobs(self, rng: random.Random) -> tuple[dict[str, Any], str]:
        # Charges pending first, then succeeded: two events per pay-in to put in the wrong order.
        return {"reorder": True, "settle_delay_ms": 300}, "events held and delivered newest-first"


class LostWebhooks(_ProviderFault):
    name = "lost-webhooks"

    def knobs(self, rng: random.Random) -> tuple[dict[str, Any], str]:
        return {"lose_webhooks": True}, "webhooks never delivered"


CHAOS_FAULTS = (TimeoutBefore(), TimeoutAfter(), DuplicateWebhooks(), ReorderWebhooks(),
                LostWebhooks())
