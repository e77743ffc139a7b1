"""A lab session for notebooks, drills and scripts: real servers, one API process, clean exit.

`LabSession(composition(1))` reuses the embedded servers if `make up` is running (or the FINCORE_* URLs
if set), otherwise starts them; it always starts its *own* API process on a free port, so arming
a fault in a drill never disturbs the API a reader has open in another terminal. `close()` stops
that API and only the servers this session started.
"""

from __future__ import annotations

from types import TracebackType

import httpx
import psycopg

from fintech_core.phase import Composition
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port, port_open, wait_until


class LabSession:
    def __init__(self, composition: Composition, *, naive: bool = True, drill: bool = True,
                 settings: Settings | None = None, **flags: object) -> None:
        self.composition = composition
        self.phase = composition.number
        self.lab = Lab(settings or Settings())
        self._started = [c for c in self.lab.embedded() if not c.health().ok]
        self.api = self.lab.api(composition, port=free_port(), host="127.0.0.1",
                                naive_baseline=naive, drill_mode=drill, **flags)
        # The workers the phases declare (relay, consumers...), this session's own: tagged with
        # the API's port so they never collide with `make up`'s.
        self.workers = {w.spec.name: w for w in self.lab.workers(composition,
                                                                  tag=str(self.api.port))}
        try:
            self.lab.start_servers()
            self.database_url = self.lab.prepare_database(composition)
            self.api.start()
            for worker in self.workers.values():
                worker.start()
        except BaseException:
            self._stop_owned()  # a failed start must not leave servers behind
            raise
        self.url = self.api.url()
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def sql(self, query: str, params: tuple[object, ...] | None = None) -> list[tuple[object, ...]]:
        """Run one statement in autocommit and return its rows: what the database *really* says."""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def restart_api(self) -> None:
        """Start the API again after a drill killed it (same port, same flags). A process that
        os._exit()s from a worker thread can keep its socket for a few milliseconds while the
        kernel tears it down, so wait for the port to be free before binding it again."""
        self.api.stop()
        wait_until(lambda: not port_open(self.api.host, self.api.port), timeout=10)
        self.api.start()

    def restart_worker(self, name: str, **flags: object) -> None:
        """Stop one of the session's workers (the relay, the consumers) and start it again,
        with drill flags (e.g. relay_crash_after_publish=True) or without."""
        self.workers[name].stop()
        self.workers[name] = self.workers[name].with_env(self.lab.env(phase=self.phase, **flags))
        self.workers[name].start()

    def _stop_owned(self) -> None:
        for worker in self.workers.values():
            worker.stop()
        self.api.stop()
        for component in reversed(self._started):
            component.stop()

    def close(self) -> None:
        self.http.close()
        self._stop_owned()

    def __enter__(self) -> LabSession:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
