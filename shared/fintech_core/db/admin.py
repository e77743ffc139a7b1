"""Create the phase databases on whatever server the lab was pointed at."""

from __future__ import annotations

import psycopg
from psycopg import sql

from fintech_core.db.urls import with_database


def ensure_database(server_url: str, name: str) -> bool:
    """Create database `name` if missing; returns True when it was created. CREATE DATABASE
    cannot run in a transaction, hence autocommit; a concurrent creator is tolerated."""
    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
            return False
        return True


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                     .format(sql.Identifier(name)))
