"""The PostgreSQL database a lab's tests run against: real, fresh, and dropped afterwards.

Which server, in order: FINCORE_DATABASE_URL if set (CI, the repository's test session, a
server of your own); else the embedded server of a running `make up`; else a throwaway embedded
server started in a temporary directory for this run only. Each run gets its own database, so a
student's half-finished code never leaves rows that the next run would trip over.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from fintech_core.db.admin import drop_database, ensure_database
from fintech_core.db.urls import with_database
from fintech_core.settings import Settings
from fintech_core.stack.postgres import EmbeddedPostgres
from fintech_core.stack.processes import free_port


@contextlib.contextmanager
def _server() -> Iterator[str]:
    url = os.environ.get("FINCORE_DATABASE_URL")
    if url:
        yield url
        return
    settings = Settings()
    running = EmbeddedPostgres(settings.lab_dir, settings.pg_port)
    if running.health().ok:
        yield running.url()
        return
    tmp = Path(tempfile.mkdtemp(prefix="fincore-lab-pg-"))
    server = EmbeddedPostgres(tmp, free_port())
    try:
        server.start()
        yield server.url()
    finally:
        server.stop(mode="immediate")
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def lab_database(prefix: str = "fincore_lab") -> Iterator[str]:
    with _server() as server_url:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        ensure_database(server_url, name)
        try:
            yield with_database(server_url, name)
        finally:
            drop_database(server_url, name)


def apply_sql(url: str, path: Path) -> None:
    """Run a lab's schema file (several statements; autocommit so each DDL lands at once)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(path.read_text(encoding="utf-8"))  # type: ignore[arg-type]
