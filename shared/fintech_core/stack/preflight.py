"""Port pre-flight: before anything starts, every port the lab needs is free or already held by
a server it reuses.

Guarantee: when `check_ports` raises, nothing has been started (no initdb, no process), and the
message has one line per taken port naming the FINCORE_* variable to set and a port that was
free a moment ago. "Free" means we could bind it, which also catches a socket that is bound but
does not accept connections (a connect test misses it, and pg_ctl would then fail with its log).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fintech_core.stack.api_server import ApiServer
    from fintech_core.stack.lab import Lab

SETTING = {"postgres": "FINCORE_PG_PORT", "redis": "FINCORE_REDIS_PORT",
           "broker": "FINCORE_BROKER_PORT", "api": "FINCORE_API_PORT",
           "object-store": "FINCORE_OBJECT_STORE_PORT"}


class PortsTaken(RuntimeError):
    """One line per port held by something the lab will not reuse."""


@dataclass(frozen=True)
class Claim:
    name: str  # a key of SETTING
    host: str
    port: int
    reusable: Callable[[], bool]  # does the holder answer as the server we would start?


def bindable(host: str, port: int) -> bool:
    # SO_REUSEADDR, as the servers themselves bind: a port in TIME_WAIT is free to them.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def suggest(host: str, port: int, avoid: set[int]) -> int:
    """The next bindable port above `port` (easy to remember), else any free one."""
    for candidate in range(port + 1, min(port + 200, 65536)):
        if candidate not in avoid and bindable(host, candidate):
            return candidate
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def taken(claims: Iterable[Claim]) -> list[Claim]:
    # The health check runs only for a port that is not free: it can take seconds on a holder
    # that accepts and never answers.
    return [c for c in claims if not bindable(c.host, c.port) and not c.reusable()]


def check_ports(claims: Iterable[Claim]) -> None:
    claims = list(claims)
    bad = taken(claims)
    if not bad:
        return
    avoid = {c.port for c in claims}
    lines = []
    for c in bad:
        free = suggest(c.host, c.port, avoid)
        avoid.add(free)
        lines.append(f"port {c.port} ({c.name}) is taken by another program; "
                     f"set {SETTING[c.name]}={free} (free now) or stop that program")
    raise PortsTaken("\n".join(lines))


def lab_claims(lab: Lab, api: ApiServer | None = None) -> list[Claim]:
    """The ports of the lab's embedded servers (and of its API): a server of the right kind
    already answering is reused, as `Lab.start_servers` does; the API only if it is this lab's
    own (its pid file names a live uvicorn on that port)."""
    claims = [Claim(c.name, c.host, c.port, lambda c=c: c.health().ok)  # type: ignore[misc]
              for c in lab.embedded()]
    if api is not None:
        claims.append(Claim("api", api.host, api.port, lambda: api.running_pid() is not None))
    return claims
