"""Phase 5: the async fraud rules' flags.

Revision ID: p5_0002
Revises: p5_0001

What the database guarantees after this migration:
- a transfer event flags an account at most once per rule (`UNIQUE (event_id, rule)`): a
  redelivered event, or one replayed from the dead letters, cannot flag twice;
- a flag names a real account and the real transfer that revealed it (foreign keys), with a
  known rule and severity (CHECKs);
- the outbox accepts the hyphenated fraud event names of the phase-5 contract
  (`fraud.account-flagged.v1`);
- the windows the rules read (a source's transfers out, an account's transfers in, by time)
  are index range scans, not scans of every transfer of the account.
"""

from pathlib import Path

from alembic import op

revision = "p5_0002"
down_revision = "p5_0001"
branch_labels = None
depends_on = None

SQL = Path(__file__).with_suffix(".sql")


def upgrade() -> None:
    op.execute(SQL.read_text())


def downgrade() -> None:
    op.execute("""
    DROP TABLE fraud_flags;
    DROP INDEX transfers_source_created_idx, transfers_destination_created_idx;
    ALTER TABLE outbox DROP CONSTRAINT outbox_event_type_check;
    ALTER TABLE outbox ADD CONSTRAINT outbox_event_type_check
        CHECK (event_type ~ '^[a-z_]+\\.[a-z_]+\\.v[0-9]+$');
    """)
