"""Phase 3 in the benchmark (Phase.bench_parts; protocol: `name`, start(), drain(),
measure(...), stop(), as events/bench.py): webhook ingestion rate, pay-in end-to-end latency,
and what phase 3 costs a POST /transfers.

- The provider simulator and the payments worker (the phase's workers) run as child processes
  from the first measurement on, the simulator on the port the bench's API calls (the bench
  runner gives provider_port a free port, so `make up`'s simulator on 8090 is never measured)
  and delivering to that API. Should that port be taken anyway, the provider figures are
  skipped and the reason reported.
- Transfer cost: a phase-2 API on a phase-2 bench database (same lab, same worker count, its
  own relay and consumers, as phase 3's has) runs the same closed-loop uniform load as the
  phase-3 API, alternately, twice each; `phase3_over_phase2` is the ratio of their transfer
  rates. Payments are not on the transfer path: it should be 1 within the machine's noise.
  Run at a later phase N, the comparison is phase N-1 against N (`phaseN_over_phaseN-1`), each
  API driven as its composition requires (bench/auth.py: phase 4's as the lab's driver).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from fintech_core.bench import auth, checks
from fintech_core.payments import bench_probes as probe
from fintech_core.phase import Composition, compose
from fintech_core.provider_sim.secrets import load_or_create
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port, port_open

Progress = Callable[[str], None]
LoadGen = Callable[..., dict[str, Any]]
WEBHOOKS = 400  # pay-ins whose webhook the bench sends itself (fewer in short profiles)


class PaymentsBench:
    name = "payments"

    def __init__(self, lab: Lab, composition: Composition, db_url: str, tag: str,
                 drain_timeout: float, **flags: object) -> None:
        self.lab, self.composition, self.db_url, self.tag = lab, composition, db_url, tag
        self.port = lab.settings.provider_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.taken = port_open("127.0.0.1", self.port)
        self.workers: list[Any] = []
        self.flags = flags
        self.previous = compose(composition.phases[:-1], composition.entrypoints)

    def start(self) -> None:
        """Nothing yet: the simulator must deliver to the bench's API, whose port measure() is
        the first to learn; the phase's workers start there."""

    def _start_workers(self, api_url: str) -> None:
        load_or_create(self.lab.settings.lab_dir)  # before either side reads it
        api_port = int(api_url.rsplit(":", 1)[1].split("/")[0])
        self.workers = [w for w in self.lab.workers(
            self.composition, tag=f"{self.tag}pay", api_host="127.0.0.1", api_port=api_port,
            provider_port=self.port, **self.flags) if w.spec.name in ("provider", "payments")]
        for w in self.workers:  # the simulator first: its start waits for GET /health
            w.start()

    def drain(self, after_seq: int | None = None) -> tuple[bool, float]:
        return True, 0.0

    def stop(self) -> None:
        for w in reversed(self.workers):
            w.stop()

    def _admin(self, path: str, **body: Any) -> None:
        key = load_or_create(self.lab.settings.lab_dir).admin_key
        httpx.post(f"{self.url}/_admin{path}", json=body or None, timeout=10,
                   headers={"Authorization": f"Bearer {key}"}).raise_for_status()

    def measure(self, api_url: str, accounts: list[str], rows: list[dict[str, Any]],
                seconds: float, backlog: int, loadgen: LoadGen, progress: Progress
                ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        verdicts: dict[str, bool] = {}
        if self.taken:
            out["provider"] = f"skipped: port {self.port} was already taken"
        else:
            self._start_workers(api_url)
            n = max(20, min(WEBHOOKS, int(backlog / 6)))
            out["webhooks"], verdicts["webhooks_one_effect_each"] = self._ingestion(api_url, n)
            progress("payments: pay-in end to end (POST /payments -> SETTLED by webhook)")
            with httpx.Client(base_url=api_url, timeout=30, auth=auth.auth_of(api_url)) as http:
                account = probe.open_account(http, f"{self.tag}-latency")
            latency = probe.payin_latency(api_url, self.db_url, account, max(10, n // 4))
            out["payin"] = latency
            verdicts["payins_settled"] = latency["settled"] == latency["payments"]
        progress(f"payments: POST /transfers, phase {self.previous.number} vs phase "
                 f"{self.composition.number}, alternately")
        out["transfers"], ok = self._transfer_cost(api_url, accounts, seconds, loadgen)
        verdicts.update(ok)
        return {**out, "checks": {**verdicts, "ok": all(verdicts.values())}}

    def _ingestion(self, api_url: str, n: int) -> tuple[dict[str, Any], bool]:
        with httpx.Client(base_url=api_url, timeout=30, auth=auth.auth_of(api_url)) as http:
            account = probe.open_account(http, f"{self.tag}-webhooks")
            self._admin("/knobs", provider="ledgerpay", lose_webhooks=True, times=n)
            try:
                ids = [probe.create_payment(http, account, 1000 + i) for i in range(n)]
            finally:
                self._admin("/reset")
        waiting = probe.captured(self.db_url, ids)
        result = probe.ingest(api_url, self.lab.settings.lab_dir, waiting, senders=8)
        effects = probe.settled_effects(self.db_url, [p["id"] for p in waiting])
        ok = (len(waiting) == n and result["statuses"] == {"200": n}
              and effects == {"settled": n, "ledger_credits": n, "inbox_applied": n})
        return {**result, "captured_before": len(waiting), "effects": effects}, ok

    def _transfer_cost(self, api_url: str, accounts: list[str], seconds: float,
                       loadgen: LoadGen) -> tuple[dict[str, Any], dict[str, bool]]:
        lab, prev = self.lab, self.previous
        # Labelled by the phases compared: run at phase 3, phase 3 against 2 (payments, off the
        # transfer path: ~1); at a later phase, that phase against the one before it.
        older, newer = f"phase{prev.number}", f"phase{self.composition.number}"
        url2 = lab.prepare_database(prev)
        api2 = lab.api(prev, port=free_port(), host="127.0.0.1", **self.flags)
        api2.workers = 2
        workers = lab.workers(prev, tag=f"{self.tag}p{prev.number}", **self.flags)
        api2.start()
        auth.register(api2.url(), prev, lab.settings)
        for w in workers:
            w.start()
        try:
            from fintech_core.bench.runner import seed

            accounts2 = seed(api2.url(), len(accounts))
            clients = 4
            runs: dict[str, list[float]] = {older: [], newer: []}
            money_ok = True
            for _ in range(2):
                for label, url, db, accs in ((older, api2.url(), url2, accounts2),
                                             (newer, api_url, self.db_url, accounts)):
                    before = checks.ledger_state(db, accs)
                    r = loadgen(url, "uniform", clients, seconds, accs)
                    after = checks.ledger_state(db, accs)
                    money_ok = money_ok and bool(checks.verify(before, after, r["statuses"].get("201", 0),
                                              checks.ledger_report(url))["ok"])
                    runs[label].append(r["per_second"])
        finally:
            for w in workers:
                w.stop()
            api2.stop()
            auth.forget(api2.url())
        p2, p3 = sum(runs[older]) / 2, sum(runs[newer]) / 2
        return ({"clients": clients, "seconds_each": seconds, "per_second": runs,
                 f"{older}_mean": round(p2, 1), f"{newer}_mean": round(p3, 1),
                 f"{newer}_over_{older}": round(p3 / p2, 3) if p2 else None},
                {"transfers_money_checks": bool(money_ok)})
