"""Phase 5's tables as SQLModel classes: the decisions and the review queue.

Why SQLModel is fine here: neither table is on the money path's reads. The request path only
*appends* to them, through the write-behind unit of work (fraud/sql.py, hand-written SQL, so a
group-commit batch writes all its decisions in one statement); the routes and the shadow report
read them. These classes repeat columns, types, nullability and indexes only; the migration
(p5_0001_fraud.sql) owns CHECKs, defaults and comments, and
tests/integration/test_read_models_drift.py fails if the two differ.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import DateTime, Index, Integer, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

FRAUD_TABLES = registry()
TIMESTAMPTZ = DateTime(timezone=True)


class FraudTable(SQLModel, registry=FRAUD_TABLES):
    """Base of the fraud slice's tables (their own metadata, like events/read_models.py)."""


class FraudDecisionRow(FraudTable, table=True):
    __tablename__ = "fraud_decisions"
    __table_args__ = (Index("fraud_decisions_decided_idx", "decided_at"),)

    transfer_id: UUID = Field(primary_key=True)  # references transfers (not modelled here)
    ruleset: str = Field(sa_type=Text)
    verdict: str = Field(sa_type=Text)
    score: int = Field(sa_type=Integer)
    reasons: list[dict[str, Any]] = Field(sa_type=JSONB)
    fallback: str | None = Field(default=None, sa_type=Text)
    shadow_ruleset: str | None = Field(default=None, sa_type=Text)
    shadow_verdict: str | None = Field(default=None, sa_type=Text)
    shadow_score: int | None = Field(default=None, sa_type=Integer)
    shadow_reasons: list[dict[str, Any]] | None = Field(default=None, sa_type=JSONB)
    decided_at: datetime = Field(sa_type=TIMESTAMPTZ)


class FraudReviewRow(FraudTable, table=True):
    __tablename__ = "fraud_reviews"
    __table_args__ = (Index("fraud_reviews_open_idx", "opened_at",
                            postgresql_where=text("state = 'OPEN'")),)

    transfer_id: UUID = Field(primary_key=True, foreign_key="fraud_decisions.transfer_id")
    state: str = Field(sa_type=Text)
    opened_at: datetime = Field(sa_type=TIMESTAMPTZ)
    expires_at: datetime = Field(sa_type=TIMESTAMPTZ)
    decided_by: str | None = Field(default=None, sa_type=Text)
    decided_at: datetime | None = Field(default=None, sa_type=TIMESTAMPTZ)


TABLES = (FraudDecisionRow, FraudReviewRow)
