"""Phase 2: consumer offsets and partition leases in PostgreSQL, instead of broker groups.

Revision ID: p2_0002
Revises: p2_0001

What the database guarantees after this migration:
- a consumer's position in a partition (`next_offset`) is a row written in the same transaction
  as the effect and its processed_events row: position and effects cannot disagree;
- one process at a time advances a partition: the advance is fenced by the `epoch` the process
  claimed, and every claim bumps it;
- partitions of a process that stopped renewing are free once its lease expires;
- the stored offsets refer to the topic incarnation recorded in event_topics.
"""

from pathlib import Path

from alembic import op

revision = "p2_0002"
down_revision = "p2_0001"
branch_labels = None
depends_on = None

SQL = Path(__file__).with_suffix(".sql")


def upgrade() -> None:
    op.execute(SQL.read_text())


def downgrade() -> None:
    op.execute("DROP TABLE event_topics, consumer_members, consumer_partitions")
