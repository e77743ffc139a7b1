"""The SQLModel classes and the migrations cannot drift: for every composition, the tables its
phases declare as SQLModel classes match the database its migrations build (Alembic's
compare_metadata). Doctored classes show the check can fail."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import pytest
from sqlalchemy import (
    CHAR,
    BigInteger,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Text,
)
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from fintech_core.db.drift import drift, metadata_of
from fintech_core.events.read_models import AccountActivity, AuditTrail, DeadLetter
from fintech_core.stack.lab import Lab
from phases import REGISTRY, composition
from tests.conftest import phase_database

pytestmark = pytest.mark.integration


def test_phase2_declares_its_sqlmodel_tables() -> None:
    assert set(composition(2).tables) == {AccountActivity, AuditTrail, DeadLetter}
    assert not composition(1).tables


@pytest.mark.parametrize("n", [p.number for p in REGISTRY.phases if composition(p.number).tables])
def test_sqlmodel_tables_match_the_migrated_database(lab: Lab, n: int) -> None:
    url = phase_database(lab, n)
    assert drift(url, metadata_of(composition(n).tables)) == []


def _doctored(extra_column: bool = False, missing_column: bool = False, wrong_type: bool = False,
              extra_index: bool = False) -> MetaData:
    """account_activity as a careless edit of the model would leave it."""
    doctored = registry()

    class Base(SQLModel, registry=doctored):
        pass

    class Activity(Base, table=True):
        __tablename__ = "account_activity"
        __table_args__ = (
            PrimaryKeyConstraint("entry_id", "account_id", "bucket"),
            Index("account_activity_account_idx", "account_id", "recorded_at"),
            *([Index("account_activity_transfer_idx", "transfer_id")] if extra_index else []))

        account_id: UUID
        entry_id: UUID
        bucket: str = Field(sa_type=Text)
        amount: int = Field(sa_type=Integer if wrong_type else BigInteger)
        currency: str = Field(sa_type=Text if wrong_type else CHAR(3))
        transfer_id: UUID
        event_id: UUID
        if not missing_column:
            event_type: str = Field(sa_type=Text)
        recorded_at: datetime = Field(sa_type=DateTime(timezone=True))
        if extra_column:
            memo: str | None = Field(default=None, sa_type=Text)

    return doctored.metadata


def test_a_column_added_to_the_model_only_is_drift(lab: Lab) -> None:
    diffs = drift(phase_database(lab, 2), _doctored(extra_column=True))
    assert [(d[0], d[2], d[3].name) for d in diffs] == [("add_column", "account_activity", "memo")]


def test_a_migrated_column_missing_from_the_model_is_drift(lab: Lab) -> None:
    diffs = drift(phase_database(lab, 2), _doctored(missing_column=True))
    assert [(d[0], d[2], d[3].name) for d in diffs] == [
        ("remove_column", "account_activity", "event_type")]


def test_a_changed_type_or_an_unmigrated_index_is_drift(lab: Lab) -> None:
    url = phase_database(lab, 2)
    kinds = sorted(d[0][0] if isinstance(d, list) else d[0]
                   for d in drift(url, _doctored(wrong_type=True)))
    assert kinds == ["modify_type", "modify_type"]
    assert [d[0] for d in drift(url, _doctored(extra_index=True))] == ["add_index"]
