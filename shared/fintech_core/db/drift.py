"""Do the SQLModel classes still describe the migrated database? Alembic's `compare_metadata`
answers with the operations autogenerate would emit to make the database match the classes.

What is compared: the tables the classes name (and only those: the money path's tables have no
classes), their columns, types, nullability, identity and indexes. What is not: comments,
CHECKs, defaults and triggers, which live in the SQL migrations only (the source of truth); a
comment diff is dropped here because the classes deliberately do not repeat the comments, and so
is a foreign key into a table without a class (phase 5's decisions reference `transfers`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Table, create_engine, pool

from fintech_core.db.urls import sqlalchemy_url

_COMMENT_OPS = {"modify_comment", "add_table_comment", "remove_table_comment"}


def metadata_of(tables: Iterable[type]) -> MetaData:
    """One MetaData holding the tables of these SQLModel classes (they may come from different
    slices' registries)."""
    metadata = MetaData()
    for cls in tables:
        table: Table = cls.__table__  # type: ignore[attr-defined]
        table.to_metadata(metadata)
    return metadata


def _is_comment(diff: Any) -> bool:
    if isinstance(diff, list):  # column modifications come grouped, one list per column
        return all(d[0] in _COMMENT_OPS for d in diff)
    return diff[0] in _COMMENT_OPS


def drift(database_url: str, metadata: MetaData) -> list[Any]:
    """The differences between `metadata` and the database at `database_url`; [] when none."""
    names = set(metadata.tables)

    def include_name(name: str | None, type_: str, parent: dict[str, str | None]) -> bool:
        return type_ != "table" or name in names

    engine = create_engine(sqlalchemy_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "include_name": include_name})
            diffs = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    return [d for d in diffs if not _is_comment(d) and not _into_unmodelled(d, names)]


def _into_unmodelled(diff: Any, names: set[str]) -> bool:
    """A database foreign key into a table that has no class (the money path's `transfers`):
    the class cannot name a table its metadata does not hold, so the migration alone keeps it."""
    return (not isinstance(diff, list) and diff[0] == "remove_fk"
            and diff[1].referred_table.name not in names)
