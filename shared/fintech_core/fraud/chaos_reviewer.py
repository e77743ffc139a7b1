"""A reviewer for chaos runs: support (sam) works the review queue while the bank workload runs
and the faults hit, through the public API only.

Each OPEN review it sees is given one fate, drawn once from a seeded generator: approve,
reject, or leave it to expire (the hold's expiry, phase 1's sweeper). A decision is retried
with the *same* Idempotency-Key until it gets a definite answer (200, or 409 review-not-open:
it expired first), so an API killed mid-approval never approves twice. What it was told is
kept: the hooks compare it with what the database says.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

import httpx

from fintech_core.auth.seed import load_seeded
from fintech_core.settings import Settings

REVIEWER = "sam"
FATES = ("approve", "reject", "leave")


@dataclass
class Reviewer:
    url: str
    settings: Settings
    seed: int = 7
    poll_s: float = 0.2
    fates: dict[str, str] = field(default_factory=dict)  # transfer id -> approve/reject/leave
    answers: dict[str, int] = field(default_factory=dict)  # transfer id -> 200 or 409
    errors: int = 0  # transport errors and 5xx met on the way (retried)
    last_error: str = ""
    stopped: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._token: str | None = None
        self._thread = threading.Thread(target=self._run, name="chaos-reviewer", daemon=True)

    def start(self) -> Reviewer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self._thread.join(timeout=30)

    def _login(self, http: httpx.Client) -> None:
        secret = load_seeded(self.settings)[REVIEWER]["secret"]
        r = http.post("/auth/token", data={"grant_type": "password", "username": REVIEWER,
                                           "password": secret})
        r.raise_for_status()
        self._token = r.json()["access_token"]

    def _call(self, http: httpx.Client, method: str, path: str, **kw: object) -> httpx.Response:
        if self._token is None:
            self._login(http)
        r = http.request(method, path, headers={**kw.pop("headers", {}),  # type: ignore[dict-item]
                                                "Authorization": f"Bearer {self._token}"}, **kw)  # type: ignore[arg-type]
        if r.status_code == 401:  # the token expired (chaos runs use short ones)
            self._token = None
        return r

    def _pass(self, http: httpx.Client) -> None:
        r = self._call(http, "GET", "/fraud/reviews", params={"state": "OPEN"})
        if r.status_code != 200:
            self.errors += r.status_code >= 500
            return
        for review in r.json():
            tid = str(review["transfer_id"])
            fate = self.fates.setdefault(tid, self._rng.choice(FATES))
            if fate == "leave" or tid in self.answers:
                continue
            d = self._call(http, "POST", f"/fraud/reviews/{tid}/{fate}",
                           headers={"Idempotency-Key": f"chaos-review-{tid}-{fate}"})
            if d.status_code == 200 or (d.status_code == 409
                                        and d.json().get("code") == "review-not-open"):
                self.answers[tid] = d.status_code
            else:
                self.errors += d.status_code >= 500

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as http:
            while not self.stopped.is_set():
                try:
                    self._pass(http)
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    self.errors += 1  # the API is down under a fault: try again next pass
                    self.last_error = f"{type(exc).__name__}: {exc}"[:200]
                self.stopped.wait(self.poll_s)

    def figures(self) -> dict[str, object]:
        done = {t: f for t, f in self.fates.items() if self.answers.get(t) == 200}
        return {"reviews_seen": len(self.fates),
                "approved": sum(f == "approve" for f in done.values()),
                "rejected": sum(f == "reject" for f in done.values()),
                "left_to_expire": sum(f == "leave" for f in self.fates.values()),
                "not_open_when_decided": sum(a == 409 for a in self.answers.values()),
                "errors_retried": self.errors, "last_error": self.last_error}
