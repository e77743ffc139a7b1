"""Phase 4: account holders and the audit log.

Revision ID: p4_0002
Revises: p4_0001

What the database guarantees after this migration:
- an account's holder (the subject that opened it) is set at most once and never changes
  (`accounts_holder_set_once`), so a route may check ownership before the money-moving
  transaction without a race;
- `audit_log` is append-only (`audit_log_append_only`), and a credit limit is recorded there in
  the transaction that sets it (ledger routes).
"""

from pathlib import Path

from alembic import op

revision = "p4_0002"
down_revision = "p4_0001"
branch_labels = None
depends_on = None

SQL = Path(__file__).with_suffix(".sql")


def upgrade() -> None:
    op.execute(SQL.read_text())


def downgrade() -> None:
    op.execute("""
    DROP TABLE audit_log;
    DROP FUNCTION audit_log_append_only;
    DROP TRIGGER accounts_holder_set_once ON accounts;
    DROP FUNCTION accounts_holder_set_once;
    ALTER TABLE accounts DROP COLUMN holder;
    """)
