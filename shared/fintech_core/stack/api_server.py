"""The API as a child process (uvicorn), so drills can kill it and tests talk real HTTP."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from fintech_core.stack.component import Health
from fintech_core.stack.processes import PidFile, port_open, spawn, terminate, wait_until


class ApiServer:
    name = "api"

    def __init__(self, lab_dir: Path, host: str, port: int, env: dict[str, str], *,
                 app: str, workers: int = 1) -> None:
        """`app`: the ASGI factory (`module:function`) of the registry's entry points."""
        self.app = app
        self.log = lab_dir / "logs" / f"api-{port}.log"
        self.pid = PidFile(lab_dir / "run" / f"api-{port}.pid", marker=f"--port {port}")
        self.host, self.port, self.env, self.workers = host, port, env, workers

    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 60) -> bool:
        """True if this call started the API, False if it reused this lab's live one."""
        if self.pid.read() is not None:
            return False
        if port_open(self.host, self.port):
            raise RuntimeError(f"port {self.port} is taken; set FINCORE_API_PORT")
        # --no-proxy-headers: uvicorn otherwise believes X-Forwarded-For from 127.0.0.1, and in
        # the lab every client is 127.0.0.1, so anyone could name their own address and escape
        # (or aim at a victim) the login throttle and the per-address rate limit. No proxy
        # stands in front of this API; the socket's peer is the caller.
        proc = spawn([sys.executable, "-m", "uvicorn", self.app, "--factory", "--host", self.host,
                      "--port", str(self.port), "--no-access-log", "--no-proxy-headers",
                      "--workers", str(self.workers)],
                     self.log, env=self.env)
        self.pid.write(proc.pid)
        if not wait_until(lambda: self.health().ok or proc.poll() is not None, timeout, 0.1):
            self.stop()
            raise RuntimeError(f"the API did not become ready in {timeout:.0f} s; "
                               f"{self.log}:\n{self._log_tail()}")
        if proc.poll() is not None:
            self.pid.path.unlink(missing_ok=True)
            raise RuntimeError(f"the API exited with {proc.returncode}; "
                               f"{self.log}:\n{self._log_tail()}")
        return True

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text().splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Returns once the port is free (bounded): a process that os._exit()s from a worker
        thread (a drill's crash point) can hold its listening socket for a moment while the
        kernel tears it down, and a start() right after would find the port taken."""
        # Wait for the port even when the process already looks dead: a thread-group leader
        # that exited first shows as a zombie while its other threads still hold the socket.
        started_here = self.pid.path.exists()
        pid = self.pid.read()
        self.pid.path.unlink(missing_ok=True)
        if pid is not None:
            terminate(pid)
        if started_here:
            wait_until(lambda: not port_open(self.host, self.port), timeout=10)

    def running_pid(self) -> int | None:
        return self.pid.read()

    def health(self) -> Health:
        where = self.url()
        try:
            r = httpx.get(f"{where}/ready", timeout=2)
            body = r.json()
            return Health(self.name, r.status_code == 200, where,
                          f"phase {body.get('phase')}" if r.status_code == 200 else r.text[:200])
        except Exception as exc:
            return Health(self.name, False, where, type(exc).__name__)
