"""The long-running processes a phase declares (phase 2's relay and consumers, ...) as children,
like the API.

Each runs `python -m <the registry's CLI module> <command>` with the lab's environment, under a
pid file `worker-<name>[-tag].pid` in the lab's run/ directory (a notebook's own workers carry a
tag, so they never collide with `make up`'s). A worker without a port is ready when it is
still alive a moment after the start; one that declares a health URL (WorkerSpec.port_setting)
is ready when that URL answers 200, and `status` reports that answer, not the pid.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

from fintech_core.phase import WorkerSpec
from fintech_core.stack.component import Health
from fintech_core.stack.processes import PidFile, spawn, terminate, wait_until

PREFIX = "worker-"


class Worker:
    def __init__(self, lab_dir: Path, spec: WorkerSpec, cli_module: str, env: dict[str, str],
                 tag: str = "", health_url: str | None = None) -> None:
        suffix = f"-{tag}" if tag else ""
        self.spec, self.cli_module, self.env, self.tag = spec, cli_module, env, tag
        self.health_url = health_url
        self.lab_dir = lab_dir
        self.name = f"{spec.name}{suffix}"
        self.argv = [sys.executable, "-m", cli_module, *spec.command]
        self.log = lab_dir / "logs" / f"{self.name}.log"
        self.pid = PidFile(lab_dir / "run" / f"{PREFIX}{self.name}.pid",
                           marker=" ".join(self.argv[1:]))

    def with_env(self, env: dict[str, str]) -> Worker:
        return Worker(self.lab_dir, self.spec, self.cli_module, env, self.tag, self.health_url)

    def start(self, timeout: float = 60) -> bool:
        """True if this call started the process, False if it reused a live one (e.g. left
        running by an `fcl up` that was killed)."""
        if self.pid.read() is not None:
            return False
        proc = spawn(self.argv, self.log, env=self.env)
        self.pid.write(proc.pid)
        if self.health_url is None:
            time.sleep(0.3)
        elif not wait_until(lambda: self.answers() or proc.poll() is not None, timeout, 0.1):
            self.stop()
            raise RuntimeError(f"worker {self.name} did not answer {self.health_url} in "
                               f"{timeout:.0f} s; see {self.log}")
        if proc.poll() is not None:
            self.pid.path.unlink(missing_ok=True)
            tail = "\n".join(self.log.read_text().splitlines()[-15:])
            raise RuntimeError(f"worker {self.name} ({' '.join(self.spec.command)}) exited with "
                               f"{proc.returncode}; {self.log}:\n{tail}")
        return True

    def stop(self) -> None:
        pid = self.pid.read()
        if pid is not None:
            terminate(pid, timeout=15)
        self.pid.path.unlink(missing_ok=True)

    def running_pid(self) -> int | None:
        return self.pid.read()

    def answers(self) -> bool:
        """Its health URL answers 200 (a real request, not the pid file)."""
        if self.health_url is None:
            return False
        try:
            return httpx.get(self.health_url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def health(self) -> Health:
        pid = self.running_pid()
        if self.health_url is not None:
            ok = self.answers()
            return Health(self.name, ok, self.health_url,
                          "answers 200" if ok else f"no 200 from {self.health_url}; see {self.log}")
        return Health(self.name, pid is not None, f"pid {pid}" if pid else "-",
                      "running" if pid else f"not running; see {self.log}")


def stop_all(lab_dir: Path) -> None:
    """Every worker the lab started (any phase, any tag), e.g. after a crashed `up`. The pid
    file alone identifies it; a pid reused by an unrelated process is left alone, because only
    a process whose command line still names the lab's CLI module is signalled."""
    run = lab_dir / "run"
    for pidfile in sorted(run.glob(f"{PREFIX}*.pid")) if run.is_dir() else []:
        guard = PidFile(pidfile, marker=" -m ")
        pid = guard.read()
        if pid is not None:
            terminate(pid, timeout=15)
        pidfile.unlink(missing_ok=True)
