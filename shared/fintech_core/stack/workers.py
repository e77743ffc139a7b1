"""The long-running processes a phase declares (phase 2's relay and consumers, ...) as children,
like the API.

Each runs `python -m <the registry's CLI module> <command>` with the lab's environment, under a
pid file `worker-<name>[-tag].pid` in the lab's run/ directory (a notebook's own workers carry a
tag, so they never collide with `make up`'s). They hold no port: readiness is "still alive a
moment after the start".
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from fintech_core.phase import WorkerSpec
from fintech_core.stack.component import Health
from fintech_core.stack.processes import PidFile, spawn, terminate

PREFIX = "worker-"


class Worker:
    def __init__(self, lab_dir: Path, spec: WorkerSpec, cli_module: str, env: dict[str, str],
                 tag: str = "") -> None:
        suffix = f"-{tag}" if tag else ""
        self.spec, self.cli_module, self.env, self.tag = spec, cli_module, env, tag
        self.lab_dir = lab_dir
        self.name = f"{spec.name}{suffix}"
        self.argv = [sys.executable, "-m", cli_module, *spec.command]
        self.log = lab_dir / "logs" / f"{self.name}.log"
        self.pid = PidFile(lab_dir / "run" / f"{PREFIX}{self.name}.pid",
                           marker=" ".join(self.argv[1:]))

    def with_env(self, env: dict[str, str]) -> Worker:
        return Worker(self.lab_dir, self.spec, self.cli_module, env, self.tag)

    def start(self) -> bool:
        """True if this call started the process, False if it reused a live one (e.g. left
        running by an `fcl up` that was killed)."""
        if self.pid.read() is not None:
            return False
        proc = spawn(self.argv, self.log, env=self.env)
        self.pid.write(proc.pid)
        time.sleep(0.3)
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

    def health(self) -> Health:
        pid = self.running_pid()
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
