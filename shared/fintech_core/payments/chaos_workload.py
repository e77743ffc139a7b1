"""The payments workload of a chaos run: top-ups, payouts and refunds through the API, beside the
bank workload's transfers, on accounts of its own (so the bank workload's sum of balances is
never touched by money that enters or leaves through a provider).

A client like the bank workload's: one Idempotency-Key per operation, retried with *that key*
after a timeout, a dropped connection, a 409 in flight or a 5xx, until a definite answer. The
answer to a create is 202 (accepted); what happened is judged later from PostgreSQL and the
provider's settlement report, never from the answers. A background thread runs a steady trickle
for the whole run; each provider fault also runs a burst while its knob is armed (`burst`).
From phase 4 every request carries the lab driver's token (`auth`, the chaos run's); a token
whose renewal meets a fault (API down) is retried like a dropped connection.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from fintech_core.stack.client_auth import ClientAuthUnavailable

PROVIDERS = ("ledgerpay", "stripeish")
DEFINITE = frozenset({202, 400, 404, 409, 422})  # 409 only when not "in flight"


class PaymentsWorkload:
    def __init__(self, api_url: str, run_id: str, seed: int, accounts: int = 4,
                 pause_s: float = 0.15, key_deadline_s: float = 120.0, auth: Any = None) -> None:
        self.api_url, self.run_id, self.auth = api_url, run_id, auth
        self.rng, self.lock = random.Random(seed), threading.Lock()
        self.pause_s, self.key_deadline_s = pause_s, key_deadline_s
        self.counts: Counter[str] = Counter()  # "<op> <status>" and retries, for the figures
        self.payments: list[str] = []  # pay-ins accepted (candidates for refunds)
        self.stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.accounts = [self._open(i) for i in range(accounts)]

    def _open(self, i: int) -> str:
        with httpx.Client(base_url=self.api_url, timeout=30, auth=self.auth) as http:
            for _ in range(60):  # the API may be restarting under a fault
                try:
                    r = http.post("/accounts", json={"owner": f"{self.run_id}-pay-{i}",
                                                     "currency": "EUR"})
                    if r.status_code == 201:
                        return str(r.json()["id"])
                except (httpx.TransportError, ClientAuthUnavailable):
                    pass
                time.sleep(0.5)
        raise RuntimeError("could not open the payments workload's accounts")

    # --- operations ---------------------------------------------------------------------------
    def _pick(self) -> tuple[str, str, dict[str, Any]]:
        with self.lock:
            rng = self.rng
            account, provider = rng.choice(self.accounts), rng.choice(PROVIDERS)
            roll = rng.random()
            if roll < 0.15 and self.payments:
                payment = rng.choice(self.payments)
                body = {"amount": rng.randint(50, 800)} if rng.random() < 0.6 else {}
                return "refund", f"/payments/{payment}/refunds", body
            if roll < 0.4:
                dest = "account_closed" if rng.random() < 0.1 else "account_ok"
                return "payout", "/payouts", {"account_id": account, "amount": rng.randint(
                    100, 2500), "currency": "EUR", "provider": provider, "destination": dest}
            card = "card_declined" if rng.random() < 0.1 else "card_ok"
            return "topup", "/payments", {"account_id": account, "amount": rng.randint(
                500, 5000), "currency": "EUR", "provider": provider, "instrument": card}

    def one(self, http: httpx.Client) -> None:
        op, path, body = self._pick()
        key, deadline, attempt = f"{self.run_id}-{uuid.uuid4().hex}", time.monotonic(), 0
        deadline += self.key_deadline_s
        while True:
            attempt += 1
            try:
                r = http.post(path, json=body, headers={"Idempotency-Key": key}, timeout=10)
                code = r.json().get("code") if r.status_code >= 400 else None
                definite = r.status_code in DEFINITE and code != "idempotency-key-in-flight"
                status = str(r.status_code)
            except (httpx.TransportError, ClientAuthUnavailable, ValueError):
                definite, status, r = False, "no-answer", None
            if definite or time.monotonic() > deadline:
                break
            self._count("retries")
            time.sleep(min(1.0, 0.05 * 2 ** min(attempt, 5)))
        self._count(f"{op} {status}" if definite else f"{op} unsettled-key")
        if op == "topup" and r is not None and r.status_code == 202:
            with self.lock:
                self.payments.append(str(r.json()["id"]))

    def _count(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1

    def burst(self, n: int) -> None:
        """n operations at once (a fault's knob is armed for about that many)."""
        with httpx.Client(base_url=self.api_url, auth=self.auth) as http, \
                ThreadPoolExecutor(min(n, 6)) as pool:
            list(pool.map(lambda _: self.one(http), range(n)))

    # --- the steady trickle -------------------------------------------------------------------
    def _loop(self) -> None:
        with httpx.Client(base_url=self.api_url, auth=self.auth) as http:
            while not self.stopped.is_set():
                self.one(http)
                self.stopped.wait(self.pause_s)

    def start(self) -> PaymentsWorkload:
        self._thread = threading.Thread(target=self._loop, name="payments-workload", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=self.key_deadline_s + 30)

    def figures(self) -> dict[str, Any]:
        with self.lock:
            return {"payments_operations": dict(sorted(self.counts.items())),
                    "payments_accounts": len(self.accounts)}
