"""Phase 1: the double-entry ledger. Balances become a projection of immutable postings.

Revision ID: p1_0001
Revises: p0_0001

What the database itself guarantees after this migration (each a last line of defence behind the
service's own checks, so a bug or a psql session cannot break money):
- postings, journal entries, holds and transfer history are append-only (UPDATE, DELETE and
  TRUNCATE raise);
- every journal entry has >= 2 postings that sum to zero per currency, for the posted bucket and
  for the pending buckets (deferred constraint triggers, checked at COMMIT);
- a posting is in its account's currency (composite foreign key), positive with a direction;
- balances change only as a side effect of inserting a posting (a trigger maintains the
  projection and refuses direct writes), and never break the overdraft policy (CHECK);
- a transfer changes only its status, only along the state machine; it is reversed at most once.
"""

from pathlib import Path

from alembic import op

revision = "p1_0001"
down_revision = "p0_0001"
branch_labels = None
depends_on = None

SQL = Path(__file__).with_suffix(".sql")


def upgrade() -> None:
    op.execute(SQL.read_text())


def downgrade() -> None:
    """Back to phase 0's schema; fails (and changes nothing) if phase-1 data would not fit."""
    op.execute("""
    DROP TABLE transfer_events, holds, postings, journal_entries, ledger_accounts;
    DROP TRIGGER transfers_guard ON transfers;
    DROP TRIGGER transfers_history ON transfers;
    DROP TRIGGER accounts_balance_guard ON accounts;
    DROP TRIGGER accounts_have_ledger ON accounts;
    DROP FUNCTION ledger_append_only, ledger_apply_posting, ledger_entry_balanced,
        ledger_guard_projection, ledger_guard_mirror, ledger_account_has_ledger,
        ledger_guard_transfer, ledger_record_status;
    DROP INDEX transfers_pending_idx;
    ALTER TABLE accounts DROP CONSTRAINT accounts_id_currency_key,
        ADD CONSTRAINT accounts_balance_check CHECK (balance >= 0);
    ALTER TABLE transfers DROP CONSTRAINT transfers_kind_check,
        DROP CONSTRAINT transfers_status_check, DROP CONSTRAINT transfers_sides_check,
        DROP CONSTRAINT transfers_reversal_check, DROP COLUMN reverses_id,
        ALTER COLUMN destination_id SET NOT NULL,
        ADD CONSTRAINT transfers_kind_check CHECK (kind IN ('TRANSFER', 'DEPOSIT')),
        ADD CONSTRAINT transfers_status_check CHECK (status IN ('PENDING', 'COMPLETED', 'FAILED')),
        ADD CONSTRAINT transfers_check CHECK ((kind = 'DEPOSIT') = (source_id IS NULL));
    """)
