"""A lab session for notebooks, drills and scripts: real servers, one API process, clean exit.

`LabSession(composition(1))` runs on a lab of its own: embedded PostgreSQL, Redis and broker in a
temporary lab directory, on free ports that are never the lab's own (54320, 63790, 19092, 8000
or the FINCORE_*_PORT values), so a `make up` running beside it is never touched: not its
databases (a notebook's relay never competes with the lab's for one outbox), not its broker (a
notebook that stops "the broker" stops its own). Servers named by FINCORE_* URLs are used
instead, with databases of the session's own (`<prefix>_s<pid>_p<phase>`, dropped at close).
Tests pass `settings=` to run on servers they already started.

The session always starts its *own* API process (and, from phase 2, relay and consumers), so
arming a fault in a drill never disturbs the API a reader has open in another terminal.
`close()` stops them, then only the servers this session started.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

import httpx
import psycopg

from fintech_core.db.admin import drop_database
from fintech_core.phase import Composition
from fintech_core.settings import Settings
from fintech_core.stack.client_auth import client_auth_for
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port, port_open, wait_until


class LabSession:
    def __init__(self, composition: Composition, *, naive: bool = True, drill: bool = True,
                 settings: Settings | None = None, **flags: object) -> None:
        self.composition = composition
        self.phase = composition.number
        self._own_dir: Path | None = None
        self._own_databases = False
        if settings is None:
            settings, self._own_dir = own_lab(Settings())
            self._own_databases = settings.database_url is not None
        # Ports of the session's own processes, never the lab's (8000, 8090): the API, and the
        # provider simulator a phase may run as a worker. Every child is told all of them, so
        # the simulator's webhooks reach this session's API and the API calls this simulator.
        api_port = free_port()
        settings = settings.model_copy(update={"provider_port": free_port()})
        self._ports: dict[str, object] = {"api_host": "127.0.0.1", "api_port": api_port,
                                          "provider_port": settings.provider_port}
        self.lab = Lab(settings)
        self._started = [c for c in self.lab.embedded() if not c.health().ok]
        self.api = self.lab.api(composition, port=api_port, host="127.0.0.1",
                                naive_baseline=naive, drill_mode=drill,
                                provider_port=settings.provider_port, **flags)
        # The workers the phases declare (relay, consumers...), this session's own: tagged with
        # the API's port so they never collide with `make up`'s.
        self.workers = {w.spec.name: w for w in self.lab.workers(composition,
                                                                  tag=str(self.api.port),
                                                                  **self._ports)}
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
        # The lab's driver credentials when the composition verifies tokens (phase 4), else None.
        self.auth = client_auth_for(composition, self.lab.settings, self.url)
        self.http = httpx.Client(base_url=self.url, timeout=30, auth=self.auth)

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
        self.workers[name] = self.workers[name].with_env(
            self.lab.env(phase=self.phase, **{**self._ports, **flags}))
        self.workers[name].start()

    def stop_broker(self) -> None:
        """Stop the broker, for a "broker down" lesson: only one this session started."""
        broker = self.lab.broker
        if broker is None or broker not in self._started:
            raise RuntimeError(
                f"refusing to stop the broker at {self.lab.kafka_bootstrap()}: this session did "
                "not start it (FINCORE_KAFKA_BOOTSTRAP is set), and others may depend on it; "
                "unset FINCORE_KAFKA_BOOTSTRAP to run this on a broker of the session's own")
        broker.stop()

    def start_broker(self) -> None:
        assert self.lab.broker is not None and self.lab.broker in self._started
        self.lab.broker.start()

    def _stop_owned(self) -> None:
        for worker in self.workers.values():
            worker.stop()
        self.api.stop()
        if self._own_databases:  # on servers the session shares: leave nothing behind
            with contextlib.suppress(psycopg.Error):  # unreachable: nothing more to clean
                drop_database(self.lab.database_url(), self._database_name())
        for component in reversed(self._started):
            component.stop()
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)

    def _database_name(self) -> str:
        return self.lab.settings.model_copy(update={"phase": self.phase}).database_name()

    def close(self) -> None:
        self.http.close()
        self._stop_owned()

    def __enter__(self) -> LabSession:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def own_lab(base: Settings) -> tuple[Settings, Path]:
    """`base` moved to a fresh lab directory and free ports (for the servers it embeds), and to
    databases of its own on the servers it names by URL."""
    lab_dir = Path(tempfile.mkdtemp(prefix="fincore-session-"))
    lab_dir.chmod(0o755)  # the embedded PostgreSQL runs as its own user when we are root
    update: dict[str, object] = {"lab_dir": lab_dir, "pg_port": free_port(),
                                 "redis_port": free_port(), "broker_port": free_port(),
                                 "object_store_port": free_port()}
    if base.database_url is not None:
        update["database_prefix"] = f"{base.database_prefix}_s{os.getpid()}"
    return base.model_copy(update=update), lab_dir
