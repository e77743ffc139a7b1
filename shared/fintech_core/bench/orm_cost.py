"""What an ORM statement costs the client, next to the same statement in raw psycopg.

Why it matters: on this project's machines a transfer is CPU-bound and most of the API's CPU is
spent per statement (bench/README.md). Phase 2 uses SQLModel for its read models and keeps raw
SQL on the money path; this measures the price that choice avoids, on your machine:

    python -m fintech_core.bench.orm_cost [--url postgresql://...] [-n 2000]

One row of audit_trail is inserted, then read back by correlation id, three ways on one sync
psycopg connection: raw psycopg (as the consumers and the money path write); a SQLModel
statement compiled and run on that connection (db/statements.py, as the read-model routes
do); the SQLModel/SQLAlchemy ORM session (add + flush; exec(select)), the usual way to use it.
Sync, so the figures compare Python work only: the API's async driver adds the same loop cost
to every variant (bench/roundtrip.py). Client CPU per statement, median of interleaved rounds.
The tables are created from the SQLModel metadata in a scratch database, dropped at the end.
Figures, not assertions: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import create_engine
from sqlmodel import Session, col, insert, select

from fintech_core.db.admin import drop_database, ensure_database
from fintech_core.db.statements import to_sql as compile_statement
from fintech_core.db.urls import sqlalchemy_url, with_database
from fintech_core.events.read_models import READ_MODELS, AuditEvent, AuditTrail
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab

SCRATCH = "fincore_orm_cost"
RAW_INSERT = ("INSERT INTO audit_trail (event_id, event_type, aggregate_type, aggregate_id,"
              " correlation_id, payload, occurred_at, recorded_at)"
              " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)")
RAW_SELECT = ("SELECT event_id, event_type, aggregate_type, aggregate_id, correlation_id,"
              " payload, occurred_at, recorded_at FROM audit_trail WHERE correlation_id = %s")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _row(i: int) -> dict[str, Any]:
    return {"event_id": uuid.uuid4(), "event_type": "transfer.completed.v1",
            "aggregate_type": "account", "aggregate_id": uuid.uuid4(),
            "correlation_id": f"t{i}", "payload": {"transfer_id": str(i), "amount": 1050},
            "occurred_at": NOW, "recorded_at": NOW}


def _story(i: int) -> Any:
    return select(AuditTrail).where(col(AuditTrail.correlation_id) == f"t{i}")


def variants(conn: psycopg.Connection, session: Session) -> dict[str, Callable[[int], None]]:
    def raw_insert(i: int) -> None:
        r = _row(i)
        conn.execute(RAW_INSERT, (r["event_id"], r["event_type"], r["aggregate_type"],
                                  r["aggregate_id"], r["correlation_id"], Jsonb(r["payload"]),
                                  r["occurred_at"], r["recorded_at"]))

    def compiled_insert(i: int) -> None:
        conn.execute(*compile_statement(insert(AuditTrail).values(**_row(i))))

    def orm_insert(i: int) -> None:
        session.add(AuditTrail(**_row(i)))
        session.flush()

    def raw_select(i: int) -> None:
        conn.execute(RAW_SELECT, (f"t{i}",)).fetchall()

    def compiled_select(i: int) -> None:  # what db/statements.fetch_all does, on a sync conn
        cur = conn.execute(*compile_statement(_story(i)))
        names = [c.name for c in cur.description or ()]
        [AuditEvent(**dict(zip(names, row, strict=True))) for row in cur.fetchall()]

    def compile_only(i: int) -> None:
        compile_statement(_story(i))

    def orm_select(i: int) -> None:
        session.exec(_story(i)).all()

    return {"insert, raw psycopg": raw_insert,
            "insert, SQLModel statement compiled on the uow connection": compiled_insert,
            "insert, SQLModel ORM session (add + flush)": orm_insert,
            "select, raw psycopg": raw_select,
            "select, SQLModel statement compiled, rows to models": compiled_select,
            "select, SQLModel ORM session (exec)": orm_select,
            "(building and compiling that select alone, no I/O)": compile_only}


def measure(db_url: str, n: int, rounds: int = 5) -> dict[str, float]:
    engine = create_engine(sqlalchemy_url(db_url), pool_size=1)
    READ_MODELS.metadata.create_all(engine, tables=[READ_MODELS.metadata.tables["audit_trail"]])
    cpu: dict[str, list[float]] = {}
    with psycopg.connect(db_url) as conn, Session(engine) as session:
        ways = variants(conn, session)
        for i in range(n):  # the rows the selects find, committed once
            ways["insert, raw psycopg"](i)
        conn.commit()
        for run in ways.values():  # warm every variant's caches outside the timing
            run(n)
            conn.rollback()
            session.rollback()
        for _ in range(rounds):
            for name, run in ways.items():
                offset = n if name.startswith("insert") else 0  # selects find one row each
                started = time.process_time()
                for i in range(n):
                    run(offset + i)
                cpu.setdefault(name, []).append(1e6 * (time.process_time() - started) / n)
                conn.rollback()
                session.rollback()
                session.expunge_all()
    engine.dispose()
    return {name: round(statistics.median(v), 1) for name, v in cpu.items()}


def run(server_url: str, n: int) -> dict[str, float]:
    drop_database(server_url, SCRATCH)
    ensure_database(server_url, SCRATCH)
    try:
        return measure(with_database(server_url, SCRATCH), n)
    finally:
        drop_database(server_url, SCRATCH)


def main() -> None:
    p = argparse.ArgumentParser(description="client CPU per statement: raw psycopg vs SQLModel")
    p.add_argument("--url", help="PostgreSQL server URL (default: the lab's, started if needed)")
    p.add_argument("-n", type=int, default=2000, help="statements per variant and round")
    a = p.parse_args()
    if a.url is not None:
        print(json.dumps({"cpu_us_per_statement": run(a.url, a.n)}, indent=2))
        return
    lab = Lab(Settings())
    started = [c for c in lab.embedded() if not c.health().ok]  # stopped again at the end
    lab.start_servers()
    try:
        print(json.dumps({"cpu_us_per_statement": run(lab.database_url(), a.n)}, indent=2))
    finally:
        for component in reversed(started):
            component.stop()


if __name__ == "__main__":
    main()
