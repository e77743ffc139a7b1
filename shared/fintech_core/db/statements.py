"""Run a SQLModel/SQLAlchemy statement on the unit of work's psycopg connection.

Why not an AsyncEngine and AsyncSession: that would be a second pool beside the API's psycopg
pool (twice the connections to size, its own session settings such as the UTC time zone to
keep in step), plus greenlet, and its reads would run outside the request's unit of work. Here
SQLAlchemy only *builds* the SQL: the statement is compiled for the psycopg dialect and sent
through the same connection and transaction as every other adapter, so read models see what the
unit of work sees and nothing connects outside the composition root's pool.

What is guaranteed: parameters are sent as bind parameters (never rendered into the SQL), after
the type's own conversion (JSON to jsonb, ...). What it costs: compiling takes CPU on every call
(no engine, so no compiled cache); the README of phase 2 quotes the figure. Fine for read
models; the transfer path keeps hand-written SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.sql import ClauseElement

from fintech_core.db.write_behind import Session

M = TypeVar("M", bound=BaseModel)

# A dialect is configuration only: creating it opens no connection.
DIALECT = PGDialect_psycopg()


def to_sql(statement: ClauseElement) -> tuple[str, dict[str, Any]]:
    """The SQL text (psycopg's %(name)s placeholders) and its parameters."""
    compiled = statement.compile(dialect=DIALECT, compile_kwargs={"render_postcompile": True})
    params = dict(compiled.construct_params() or {})
    # SQLAlchemy applies these per-type conversions at execution; without an engine, we do.
    processors: dict[str, Any] = compiled._bind_processors  # type: ignore[attr-defined]
    for name, process in processors.items():
        if not callable(process):
            raise TypeError(f"bind {name!r} has a tuple type; compare columns one by one")
        params[name] = process(params[name])
    return str(compiled), params


async def fetch_all(conn: Session, statement: ClauseElement,
                    into: type[M] | Callable[..., M]) -> list[M]:
    """Run a SELECT and build one `into` per row from its columns by name."""
    sql, params = to_sql(statement)
    cur = await conn.execute(sql, params)
    names = [c.name for c in cur.description or ()]
    return [into(**dict(zip(names, row, strict=True))) for row in await cur.fetchall()]
