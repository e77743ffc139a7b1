"""The lab: which servers are embedded and which are external, and how to bring them up.

For each of PostgreSQL, Redis and the broker: if its FINCORE_* URL is set, that server is used
and nothing is started; otherwise the embedded server runs under the lab directory. `up` is
idempotent (a running server is reused, a stale pid file after a crash is ignored), and `down`
stops only what the lab itself started.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from fintech_core.db.admin import ensure_database
from fintech_core.db.migrate import upgrade
from fintech_core.db.urls import with_database
from fintech_core.phase import Composition, WorkerSpec
from fintech_core.settings import Settings
from fintech_core.stack import broker, postgres, redis
from fintech_core.stack.api_server import ApiServer
from fintech_core.stack.broker import EmbeddedBroker
from fintech_core.stack.component import Health
from fintech_core.stack.objectstore import EmbeddedObjectStore
from fintech_core.stack.postgres import EmbeddedPostgres
from fintech_core.stack.preflight import check_ports, lab_claims
from fintech_core.stack.redis import EmbeddedRedis
from fintech_core.stack.workers import Worker, stop_all

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


class Lab:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = s = settings or Settings()
        lab = s.lab_dir
        self.postgres = None if s.database_url else EmbeddedPostgres(lab, s.pg_port)
        self.redis = None if s.redis_url else EmbeddedRedis(lab, s.redis_port)
        # The object store exists only to hold the embedded broker's topics (storage "s3").
        self.object_store = (EmbeddedObjectStore(lab, s.object_store_port)
                             if s.broker_storage == "s3" and not s.kafka_bootstrap else None)
        self.broker = None if s.kafka_bootstrap else EmbeddedBroker(
            lab, s.broker_port, store=self.object_store)

    # --- where things are ----------------------------------------------------------------------
    def database_url(self) -> str:
        return self.settings.database_url or self.postgres.url()  # type: ignore[union-attr]

    def redis_url(self) -> str:
        return self.settings.redis_url or self.redis.url()  # type: ignore[union-attr]

    def kafka_bootstrap(self) -> str:
        return self.settings.kafka_bootstrap or self.broker.url()  # type: ignore[union-attr]

    def phase_database_url(self, phase: int) -> str:
        name = self.settings.model_copy(update={"phase": phase}).database_name()
        return with_database(self.database_url(), name)

    def env(self, **overrides: object) -> dict[str, str]:
        """The environment a child process (API, worker, notebook kernel) needs to use this lab."""
        env = dict(os.environ)
        env.update({
            "FINCORE_DATABASE_URL": self.database_url(),
            "FINCORE_REDIS_URL": self.redis_url(),
            "FINCORE_KAFKA_BOOTSTRAP": self.kafka_bootstrap(),
            "FINCORE_LAB_DIR": str(self.settings.lab_dir),
            "FINCORE_DATABASE_PREFIX": self.settings.database_prefix,
            # Worker servers (a phase's simulator) listen where this lab says, and every child
            # that calls them (the API, the workers) must agree: a bench or test lab on free
            # ports never reaches `make up`'s.
            "FINCORE_PROVIDER_PORT": str(self.settings.provider_port),
        })
        env.update({f"FINCORE_{k.upper()}": str(v).lower() if isinstance(v, bool) else str(v)
                    for k, v in overrides.items()})
        return env

    # --- lifecycle -----------------------------------------------------------------------------
    def embedded(self) -> list[EmbeddedPostgres | EmbeddedRedis | EmbeddedObjectStore
                                | EmbeddedBroker]:
        """In start order: the object store before the broker that keeps its topics there."""
        return [c for c in (self.postgres, self.redis, self.object_store, self.broker)
                if c is not None]

    def start_servers(self, progress: Progress = _quiet) -> None:
        """Start each embedded server, or reuse one that already answers on its port as the
        right kind of server (e.g. `make up` from another checkout). A port held by anything
        else is an error that names the setting to change, raised before anything starts."""
        check_ports(lab_claims(self))
        for component in self.embedded():
            if component.health().ok:
                progress(f"reusing the {component.name} already at {component.url()}")
                continue
            progress(f"starting {component.name}")
            component.start()
            progress(f"{component.name} ready at {component.url()}")

    def prepare_database(self, composition: Composition, progress: Progress = _quiet,
                         seed: bool = True) -> str:
        """Create the phase database if needed, migrate it to the composition's head, and run
        the phases' seeders (phase 4's users and clients) unless `seed` is False; each step
        is idempotent."""
        phase = composition.number
        settings = self.settings.model_copy(update={"phase": phase})
        name = settings.database_name()
        if ensure_database(self.database_url(), name):
            progress(f"created database {name}")
        url = with_database(self.database_url(), name)
        upgrade(url, composition.migration_dirs())
        progress(f"database {name} migrated to phase {phase}")
        for seeder in composition.seeders if seed else ():
            seeder(settings, url)
        return url

    def api(self, composition: Composition, port: int | None = None, host: str | None = None,
            **flags: object) -> ApiServer:
        """The composition's API as a child process; `flags` become FINCORE_* variables."""
        s = self.settings
        return ApiServer(s.lab_dir, host or s.api_host, port or s.api_port,
                         self.env(phase=composition.number, **flags),
                         app=composition.entrypoints.app_factory)

    def workers(self, composition: Composition, tag: str = "", **flags: object) -> list[Worker]:
        """The long-running processes the composed phases declare (none before phase 2)."""
        env = self.env(phase=composition.number, **flags)
        effective = self.settings.model_copy(update=flags)
        return [Worker(self.settings.lab_dir, spec, composition.entrypoints.cli_module, env, tag,
                       health_url(effective, spec))
                for spec in composition.workers]

    def stop_servers(self) -> None:
        """Redis and the broker do not depend on each other: stop them together, then the
        object store (after the broker that writes to it), then PostgreSQL last, so a worker
        still draining can commit its last transaction."""
        from concurrent.futures import ThreadPoolExecutor

        others = [c for c in (self.redis, self.broker) if c is not None]
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda c: c.stop(), others))
        if self.object_store is not None:
            self.object_store.stop()
        if self.postgres is not None:
            self.postgres.stop()

    def stop_apis(self) -> None:
        run = self.settings.lab_dir / "run"
        for pidfile in sorted(run.glob("api-*.pid")) if run.is_dir() else []:
            port = int(pidfile.stem.split("-", 1)[1])
            ApiServer(self.settings.lab_dir, self.settings.api_host, port, {}, app="").stop()

    def down(self) -> None:
        stop_all(self.settings.lab_dir)  # before the servers, so they exit cleanly
        self.stop_apis()
        self.stop_servers()

    def status(self) -> list[Health]:
        """Real checks (a query, a PING, a metadata request), embedded or external alike."""
        return [
            self.postgres.health() if self.postgres else
            postgres.check(self.database_url(), "external " + _host(self.database_url())),
            self.redis.health() if self.redis else
            redis.check(self.redis_url(), "external " + _host(self.redis_url())),
            *([self.object_store.health()] if self.object_store else []),
            self.broker.health() if self.broker else broker.check(self.kafka_bootstrap()),
        ]


def health_url(settings: Settings, spec: WorkerSpec) -> str | None:
    """The URL a worker that serves HTTP answers 200 on, from the settings it runs with."""
    if spec.port_setting is None:
        return None
    host = getattr(settings, spec.host_setting) if spec.host_setting else "127.0.0.1"
    return f"http://{host}:{getattr(settings, spec.port_setting)}{spec.health_path}"


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc.rsplit("@", 1)[-1]
