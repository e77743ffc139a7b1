"""What the provider simulator tests share: a real simulator process on the session's
PostgreSQL (a database and lab directory of its own), a real webhook receiver (uvicorn in a
thread) and a small client for the simulator's API and admin routes."""

from __future__ import annotations

import hashlib
import hmac
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fintech_core.db.admin import drop_database
from fintech_core.provider_sim.secrets import ProviderSecrets, load_or_create
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import PidFile, free_port, spawn, terminate, wait_until


@dataclass
class Received:
    provider: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """Stands in for the lab's API at /webhooks/{provider}: records every request, answers the
    scripted statuses in order (then 200)."""

    port: int
    received: list[Received] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        with self.lock:
            self.received.append(Received(request.path_params["provider"],
                                           dict(request.headers), body, time.time()))
            status = self.script.pop(0) if self.script else 200
        return Response(status_code=status)

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        assert wait_until(lambda: len(self.received) >= count, timeout), (
            f"expected {count} webhooks, got {len(self.received)}")
        return list(self.received)


def run_receiver() -> Iterator[Receiver]:
    receiver = Receiver(free_port())
    app = Starlette(routes=[Route("/webhooks/{provider}", receiver.endpoint, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=receiver.port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_until(lambda: server.started, 10)
    try:
        yield receiver
    finally:
        server.should_exit = True
        thread.join(10)


class Simulator:
    """A real simulator process (python -m fintech_core.provider_sim.server)."""

    def __init__(self, lab: Lab, receiver_port: int, **flags: object) -> None:
        self.lab_dir = Path(tempfile.mkdtemp(prefix="fincore-provider-"))
        self.prefix = f"fincore_test_sim{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.server_url = lab.database_url()
        self.env = lab.env(lab_dir=self.lab_dir, database_prefix=self.prefix,
                           provider_port=self.port, api_port=receiver_port, **flags)
        argv = [sys.executable, "-m", "fintech_core.provider_sim.server"]
        self.log = self.lab_dir / "provider.log"
        self.pid = PidFile(self.lab_dir / "provider.pid", marker="provider_sim.server")
        proc = spawn(argv, self.log, env=self.env)
        self.pid.write(proc.pid)
        self.url = f"http://127.0.0.1:{self.port}"
        ready = wait_until(lambda: self._healthy() or proc.poll() is not None, 30, 0.1)
        if not ready or proc.poll() is not None:
            self.close()
            raise RuntimeError(f"simulator did not start: {self.log.read_text()[-3000:]}")
        self.secrets: ProviderSecrets = load_or_create(self.lab_dir)

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def client(self, provider: str, timeout: float = 10) -> httpx.Client:
        key = load_or_create(self.lab_dir).of(provider).api_key
        return httpx.Client(base_url=self.url, timeout=timeout,
                            headers={"Authorization": f"Bearer {key}"})

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        key = load_or_create(self.lab_dir).admin_key
        response = httpx.request(method, f"{self.url}/_admin{path}", timeout=10,
                                 headers={"Authorization": f"Bearer {key}"}, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def knobs(self, **values: Any) -> Any:
        return self.admin("POST", "/knobs", json=values)

    def deliveries(self, reference: str) -> list[dict[str, Any]]:
        return self.admin("GET", "/deliveries", params={"reference": reference})

    def close(self) -> None:
        pid = self.pid.read()
        if pid is not None:
            terminate(pid)
        drop_database(self.server_url, f"{self.prefix}_provider")
        shutil.rmtree(self.lab_dir, ignore_errors=True)


def stripe_signatures_valid(header: str, body: bytes, secrets: tuple[str, ...]) -> bool:
    """An independent check of Stripe-Signature (not the simulator's code): every v1 must be
    HMAC-SHA256 of "{t}.{body}" under one of `secrets`, and there must be one v1 per secret."""
    parts = [p.split("=", 1) for p in header.split(",")]
    t = [v for k, v in parts if k == "t"]
    v1 = [v for k, v in parts if k == "v1"]
    expected = {hmac.new(s.encode(), f"{t[0]}.".encode() + body, hashlib.sha256).hexdigest()
                for s in secrets}
    return len(t) == 1 and len(v1) == len(secrets) and set(v1) == expected


def new_key() -> str:
    return uuid.uuid4().hex
