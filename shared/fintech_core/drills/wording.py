"""How a client's attempt is put into words, the same way in the timeline, the CLI and JSON.

Transport errors are named for what the client can know, which is the whole point of the drills:
a timeout, a closed or reset connection all mean "I do not know whether the money moved".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Attempt:
    status: int | None  # None: no HTTP answer at all
    error: str | None
    ms: float
    body: Any = None
    replayed: bool = False

    @property
    def answered(self) -> bool:
        return self.status is not None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def definitive(self) -> bool:
        """An answer the client may stop on: success, or a refusal that will not change.
        409 (key in flight) and 5xx say "ask again later"; no answer says "nothing known"."""
        return self.status is not None and self.status != 409 and self.status < 500

    def summary(self) -> str:
        if self.status is None:
            return f"{self.error} after {self.ms:.0f} ms"
        what = f"{self.status}"
        if isinstance(self.body, dict):
            code = self.body.get("code")
            what += f" {code}" if code else (" ok" if self.body.get("ok") else "")
        if self.replayed:
            what += " (Idempotent-Replayed)"
        return f"{what} in {self.ms:.0f} ms"


def describe_error(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out, no answer"
    text = str(exc).lower()
    if isinstance(exc, httpx.RemoteProtocolError):
        if "complete message body" in text or "incomplete" in text:
            return "answer cut off mid-body"
        return "connection closed without an answer"
    if "reset" in text or isinstance(exc, httpx.ReadError):
        return "connection reset"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    return f"{type(exc).__name__}: {exc}"
