"""Phase 2's long-running processes (the relay, the consumers) as children, like the API.

Each runs `python -m fintech_core.cli.main <command>` with the lab's environment, under a pid
file in the lab's run/ directory (named with a tag, so a notebook's own workers never collide
with `make up`'s). They hold no port: readiness is "still alive a moment after the start".
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from fintech_core.stack.component import Health
from fintech_core.stack.processes import PidFile, spawn, terminate

COMMANDS = ("relay", "consume")


class Worker:
    def __init__(self, lab_dir: Path, command: str, env: dict[str, str], tag: str = "") -> None:
        assert command in COMMANDS, command
        suffix = f"-{tag}" if tag else ""
        self.name = f"{command}{suffix}"
        self.command, self.env = command, env
        self.log = lab_dir / "logs" / f"{self.name}.log"
        self.pid = PidFile(lab_dir / "run" / f"{self.name}.pid",
                           marker=f"fintech_core.cli.main {command}")

    def start(self) -> bool:
        """True if this call started the process, False if it reused a live one (e.g. left
        running by a `fincore up` that was killed)."""
        if self.pid.read() is not None:
            return False
        proc = spawn([sys.executable, "-m", "fintech_core.cli.main", self.command], self.log,
                     env=self.env)
        self.pid.write(proc.pid)
        time.sleep(0.3)
        if proc.poll() is not None:
            self.pid.path.unlink(missing_ok=True)
            tail = "\n".join(self.log.read_text().splitlines()[-15:])
            raise RuntimeError(f"`fincore {self.command}` exited with {proc.returncode}; "
                               f"{self.log}:\n{tail}")
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
    """Every worker the lab started (any tag), e.g. after a crashed `fincore up`."""
    run = lab_dir / "run"
    for command in COMMANDS:
        for pidfile in sorted(run.glob(f"{command}*.pid")) if run.is_dir() else []:
            tag = pidfile.stem[len(command) + 1:]
            Worker(lab_dir, command, {}, tag).stop()
