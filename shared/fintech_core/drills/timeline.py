"""The timeline of one drill side: every request, answer, fault and database fact, in order.

Times are milliseconds since the side started, from one monotonic clock, so events logged by the
client threads, the proxy thread and the drill itself interleave truthfully. Thread-safe.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

# Who did it: the client under test, the network (proxy), the API process, PostgreSQL, the
# broker, the payment provider (phase 3's simulator), Redis (phase 4's rate limiter), or the
# drill itself (setup, arming faults, restarting things).
Actor = Literal["client", "proxy", "api", "database", "broker", "provider", "redis", "drill"]
# request/answer: the client's side of HTTP; fault: something broken on purpose;
# fact: read from the database, never from the client's belief; note: commentary.
Kind = Literal["request", "answer", "error", "fault", "fact", "note"]


@dataclass(frozen=True)
class Event:
    t_ms: float
    actor: Actor
    kind: Kind
    text: str
    data: dict[str, Any] = field(default_factory=dict)


class Timeline:
    def __init__(self) -> None:
        self._t0 = time.monotonic()
        self._events: list[Event] = []
        self._lock = threading.Lock()

    def now_ms(self) -> float:
        return (time.monotonic() - self._t0) * 1000

    def log(self, actor: Actor, kind: Kind, text: str, **data: Any) -> Event:
        with self._lock:
            event = Event(round(self.now_ms(), 1), actor, kind, text, data)
            self._events.append(event)
            return event

    def events(self) -> list[Event]:
        with self._lock:
            return sorted(self._events, key=lambda e: e.t_ms)
