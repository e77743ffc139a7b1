"""Pid-file process management shared by every embedded server.

Guarantee: a pid file is trusted only while its process is alive *and* still runs the program we
started (checked on the command line), so a stale file left by a crash never makes us signal an
unrelated process that reused the pid.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import psutil


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


_HANDED_OUT: set[int] = set()
_HANDED_OUT_LOCK = threading.Lock()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody holds now, and never one of the lab's own (the defaults and the configured
    FINCORE_*_PORT values): a test or notebook server holding 54320 while `make up` is down would
    make the next `make up` fail.

    Never the same port twice in one process either: a port handed out is not bound until its
    server starts, and the kernel may offer it again meanwhile. Seen: the broker-storage smoke's
    two threads, one picking a lab's broker port and the other a cold-start broker's, got the
    same one ("port ... is taken")."""
    reserved = lab_ports()
    while True:
        with socket.socket() as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        with _HANDED_OUT_LOCK:
            if port not in reserved and port not in _HANDED_OUT:
                _HANDED_OUT.add(port)
                return port


def lab_ports() -> set[int]:
    from fintech_core.settings import Settings

    fields = ("pg_port", "redis_port", "broker_port", "api_port", "object_store_port",
              "provider_port")
    ports = {int(Settings.model_fields[f].default) for f in fields}
    with contextlib.suppress(ValueError):  # a malformed FINCORE_* value is reported elsewhere
        configured = Settings()
        ports |= {int(getattr(configured, f)) for f in fields}
    return ports


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


class PidFile:
    def __init__(self, path: Path, marker: str | tuple[str, ...]) -> None:
        self.path = path
        # A string that must appear in the process command line, so that a reused pid is never
        # taken for ours; several when the process can be started in several ways.
        self.markers = (marker,) if isinstance(marker, str) else marker

    def read(self) -> int | None:
        try:
            pid = int(self.path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            proc = psutil.Process(pid)
            alive = proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
            if alive and any(m in " ".join(proc.cmdline()) for m in self.markers):
                return pid
        except psutil.Error:
            pass
        self.path.unlink(missing_ok=True)  # stale: the process died or the pid was reused
        return None

    def write(self, pid: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(str(pid))


def spawn(argv: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start a detached child in its own session, so Ctrl-C in the terminal reaches only the
    supervisor, which then stops children in order (API first, databases last)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )


def exited(proc: psutil.Process) -> bool:
    """A zombie has exited: it only waits for its parent (often init, for our detached
    servers, which may reap late) to collect its status."""
    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def terminate(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if the process is still there after `timeout` seconds."""
    try:
        proc = psutil.Process(pid)
        os.kill(pid, signal.SIGTERM)
    except (ProcessLookupError, psutil.NoSuchProcess):
        return
    if not wait_until(lambda: exited(proc), timeout, interval=0.02):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: exited(proc), 5, interval=0.02)
