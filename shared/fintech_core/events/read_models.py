"""Phase 2's tables off the money path, as SQLModel classes: the two read models the consumers
fill (account_activity, audit_trail) and the dead letters.

Why SQLModel here and not on the transfer path: these tables are read by routes and operators,
never inside a transfer's transaction, so one class can be both the columns and the API schema
(`ActivityLine`, `AuditEvent` are the non-table halves the routes answer with). The money path
stays on hand-written SQL with the write-behind unit of work (README, "Read models in SQLModel").

What is guaranteed: phase 2's migration (p2_0001_events.sql) stays the source of truth for
CHECKs, defaults, triggers and comments. These classes repeat only columns, types, nullability
and indexes, and tests/integration/test_read_models_drift.py fails if they differ from the
migrated database. They have their own registry, so their metadata holds exactly these tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    CHAR,
    BigInteger,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

READ_MODELS = registry()

TIMESTAMPTZ = DateTime(timezone=True)


class EventsTable(SQLModel, registry=READ_MODELS):
    """Base of the events slice's tables: their metadata is READ_MODELS.metadata, not the
    process-wide SQLModel.metadata other slices add to."""


class ActivityLine(SQLModel):
    """One line of an account's activity: its net change in one bucket from one journal entry."""

    account_id: UUID
    entry_id: UUID
    bucket: str = Field(sa_type=Text, schema_extra={"examples": ["POSTED"]})
    amount: int = Field(sa_type=BigInteger, description="Signed minor units: credit +, debit -.")
    currency: str = Field(sa_type=CHAR(3), schema_extra={"examples": ["EUR"]})
    transfer_id: UUID
    event_id: UUID = Field(description="The event this line was projected from.")
    event_type: str = Field(sa_type=Text, schema_extra={"examples": ["transfer.completed.v1"]})
    recorded_at: datetime = Field(sa_type=TIMESTAMPTZ,
                                  description="When the consumer projected the event.")


class AccountActivity(ActivityLine, EventsTable, table=True):
    __tablename__ = "account_activity"
    __table_args__ = (PrimaryKeyConstraint("entry_id", "account_id", "bucket"),
                      Index("account_activity_account_idx", "account_id", "recorded_at"))


class AuditEvent(SQLModel):
    """One event as the audit consumer received it."""

    event_id: UUID = Field(primary_key=True)
    event_type: str = Field(sa_type=Text, schema_extra={"examples": ["transfer.held.v1"]})
    aggregate_type: str = Field(sa_type=Text, schema_extra={"examples": ["account"]})
    aggregate_id: UUID = Field(description="The account whose money the event is about.")
    correlation_id: str | None = Field(default=None, sa_type=Text,
                                       description="The transfer the event belongs to.")
    payload: dict[str, Any] = Field(sa_type=JSONB, description="The event's contract, as sent.")
    occurred_at: datetime = Field(sa_type=TIMESTAMPTZ, description="When it was committed.")
    recorded_at: datetime = Field(sa_type=TIMESTAMPTZ, description="When the audit stored it.")


class AuditTrail(AuditEvent, EventsTable, table=True):
    __tablename__ = "audit_trail"
    __table_args__ = (Index("audit_trail_correlation_idx", "correlation_id", "occurred_at"),)


class DeadLetter(EventsTable, table=True):
    """A message a consumer gave up on. Written and replayed by events/consumer.py and
    events/ops.py in SQL; modelled here so its columns are checked like the read models'."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index("dead_letters_open_idx", "consumer", "event_id", unique=True,
                            postgresql_where=text("resolved_at IS NULL")),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger,
                           sa_column_args=[Identity(always=True)])
    consumer: str = Field(sa_type=Text)
    event_id: UUID | None = None
    event_type: str | None = Field(default=None, sa_type=Text)
    error: str = Field(sa_type=Text)
    attempts: int = Field(sa_type=Integer)
    topic: str = Field(sa_type=Text)
    kafka_partition: int = Field(sa_type=Integer)
    kafka_offset: int = Field(sa_type=BigInteger)
    record_key: bytes | None = Field(default=None, sa_type=LargeBinary)
    record_value: bytes = Field(sa_type=LargeBinary)
    record_headers: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB)
    dead_at: datetime = Field(sa_type=TIMESTAMPTZ)
    resolved_at: datetime | None = Field(default=None, sa_type=TIMESTAMPTZ)
