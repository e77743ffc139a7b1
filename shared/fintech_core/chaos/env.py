"""The real servers one run talks to, whoever started them (the CLI's LabSession or a test)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fintech_core.chaos.hooks import ChaosHook
from fintech_core.stack.api_server import ApiServer
from fintech_core.stack.postgres import EmbeddedPostgres
from fintech_core.stack.processes import port_open, wait_until

if TYPE_CHECKING:
    from fintech_core.chaos.faults import Fault
    from fintech_core.stack.session import LabSession

# Runs use their own database (`fincore_chaos_p<N>`), so terminating the API's backends or
# filling tables never disturbs the API a reader has open on `fincore_p<N>`.
CHAOS_DATABASE_PREFIX = "fincore_chaos"


@dataclass
class ChaosEnv:
    api: ApiServer  # a child process we may SIGKILL and start again on the same port
    database_url: str  # the phase database the API uses
    postgres: EmbeddedPostgres | None  # None when the server is external: no restart fault
    phase: int
    hooks: tuple[ChaosHook, ...] = ()  # the invariant hooks the composed phases declare
    faults: tuple[Fault, ...] = ()  # the faults the composed phases declare (beside the core's)
    # The session that started the API, its workers (relay, consumers...) and the servers: the
    # phases' faults restart workers or stop the broker through it. None: those faults skip.
    session: LabSession | None = None
    # Knobs of the phases' faults and hooks, by name (e.g. broker_outage_s, drain_bound_s).
    options: dict[str, float] = field(default_factory=dict)
    # Numbers faults measure for hooks to judge and report (e.g. drain times), per run.
    measures: dict[str, Any] = field(default_factory=dict)
    run_started: float | None = None  # epoch seconds, set by the runner: hooks scope rows to it
    # The driver's httpx auth when there is no session (a test's dedicated phase-4 API).
    client_auth: Any = None

    @property
    def api_url(self) -> str:
        return self.api.url()

    @property
    def auth(self) -> Any:
        """httpx auth for the lab's driver when the composition needs one (phase 4 on): the
        session's, else `client_auth`; None through phase 3."""
        return self.session.auth if self.session is not None else self.client_auth

    def wait_api_gone(self, timeout: float = 10) -> bool:
        """True once the process is gone *and* its port is closed. Both are needed: a dying
        process loses its command line (so its pid file reads as stale) before the kernel
        closes its listening socket, and restarting in that gap finds the port taken."""
        return wait_until(lambda: self.api.running_pid() is None
                          and not port_open(self.api.host, self.api.port), timeout, 0.02)

    def ensure_api(self) -> None:
        """Bring the API back if a fault left it down (a crash point that fired late)."""
        if self.api.running_pid() is None:
            self.wait_api_gone()
            self.api.start()
