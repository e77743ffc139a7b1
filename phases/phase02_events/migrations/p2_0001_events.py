"""Phase 2: the transactional outbox, consumer bookkeeping and the two read models.

Revision ID: p2_0001
Revises: p1_0001

What the database guarantees after this migration:
- an outbox row is written in the same transaction as the ledger change it announces (the
  service does the writing; the table only has to exist), so "committed" and "announced" can
  never disagree: a rolled-back transfer leaves no event, a committed one always has one;
- the insert wakes the relay (NOTIFY at COMMIT, never before: a relay cannot see an event whose
  transaction might still roll back);
- a consumer applies an event at most once: processed_events is keyed by (consumer, event id)
  and is written in the same transaction as the consumer's effect.
"""

from pathlib import Path

from alembic import op

revision = "p2_0001"
down_revision = "p1_0001"
branch_labels = None
depends_on = None

SQL = Path(__file__).with_suffix(".sql")


def upgrade() -> None:
    op.execute(SQL.read_text())


def downgrade() -> None:
    op.execute("""
    DROP TABLE audit_trail, account_activity, dead_letters, processed_events, outbox;
    DROP FUNCTION outbox_notify;
    """)
