"""Database faults: backend terminations and a PostgreSQL restart. See faults.py for the contract."""

from __future__ import annotations

import random
import time

import psycopg

from fintech_core.chaos.env import ChaosEnv


class PgTerminate:
    """pg_terminate_backend on every connection of the API's pool, mid-transaction or idle."""

    name = "pg-terminate"

    def available(self, env: ChaosEnv) -> str | None:
        return None

    def inject(self, env: ChaosEnv, rng: random.Random) -> str:
        with psycopg.connect(env.database_url, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = 'fincore-api' AND datname = current_database()"
                "   AND pid <> pg_backend_pid()").fetchone()
        return f"terminated {row[0] if row else 0} backends"


class PgRestart:
    """Stop PostgreSQL (fast: open transactions roll back) and start it again."""

    name = "pg-restart"

    def available(self, env: ChaosEnv) -> str | None:
        return None if env.postgres is not None else "PostgreSQL is external, not embedded"

    def inject(self, env: ChaosEnv, rng: random.Random) -> str:
        assert env.postgres is not None
        began = time.monotonic()
        env.postgres.stop()
        env.postgres.start()
        return f"restarted in {time.monotonic() - began:.1f} s"
