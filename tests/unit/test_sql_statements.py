"""SQLModel statements compiled for the unit of work's psycopg connection: values travel as bind
parameters, converted by their column type, never rendered into the SQL."""

from __future__ import annotations

from uuid import UUID

from psycopg.types.json import Jsonb
from sqlalchemy import tuple_
from sqlmodel import col, insert, select

from fintech_core.db.statements import to_sql
from fintech_core.events.read_models import AuditTrail, DeadLetter


def test_values_are_bind_parameters_not_sql() -> None:
    evil = "x'); DROP TABLE audit_trail; --"
    sql, params = to_sql(select(AuditTrail).where(col(AuditTrail.correlation_id) == evil))
    assert evil not in sql and list(params.values()) == [evil]
    assert "%(correlation_id_1)s" in sql


def test_json_is_converted_like_sqlalchemy_would() -> None:
    sql, params = to_sql(insert(DeadLetter).values(
        consumer="audit", error="boom", attempts=1, topic="t", kafka_partition=0,
        kafka_offset=1, record_value=b"v", record_headers={"correlation_id": "c"}))
    assert "::JSONB" in sql
    headers = params["record_headers"]  # psycopg cannot adapt a bare dict; Jsonb it can
    assert isinstance(headers, Jsonb) and headers.obj == {"correlation_id": "c"}


def test_row_comparisons_bind_each_value() -> None:
    u = UUID(int=7)
    sql, params = to_sql(select(AuditTrail).where(
        tuple_(col(AuditTrail.event_id), col(AuditTrail.event_type)) < tuple_(u, "a")))
    assert "(audit_trail.event_id, audit_trail.event_type) <" in sql
    assert sorted(map(str, params.values())) == [str(u), "a"]
