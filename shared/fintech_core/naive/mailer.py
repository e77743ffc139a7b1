"""The receipt mailer the naive baseline calls inline, with a configurable slow or broken server.

Only the naive endpoint sends mail on the request path; that is the "original sin" the drills
show (a slow mail server makes transfers slow; a broken one turns a transfer whose money already
moved into an error). Phase 2 moves notifications behind the outbox.
"""

from __future__ import annotations

import threading
import time


class MailServerDown(RuntimeError):
    pass


class InlineMailer:
    def __init__(self, latency_ms: int = 0, fail: bool = False) -> None:
        self.latency_ms = latency_ms
        self.fail = fail
        self.sent = 0
        self._lock = threading.Lock()

    def send(self, to: str, subject: str, body: str) -> None:
        time.sleep(self.latency_ms / 1000)
        if self.fail:
            raise MailServerDown("the mail server refused the connection")
        with self._lock:
            self.sent += 1
