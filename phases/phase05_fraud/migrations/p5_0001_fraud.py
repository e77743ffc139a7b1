"""Phase 5: fraud decisions and the review queue.

Revision ID: p5_0001
Revises: p4_0002

What the database guarantees after this migration:
- every decision belongs to a recorded transfer (`fraud_decisions.transfer_id` references
  `transfers`), one per transfer, and its verdicts, scores and fallback kinds are only the values
  the engine can produce; a shadow decision is stored whole or not at all;
- a review belongs to a decision whose verdict is `review` (the foreign key names the decision;
  the step writes both in the transfer's transaction), and a decided review names who decided
  and when, an open one neither;
- while its review is OPEN a held transfer can only expire (`transfers_fraud_review_guard`):
  posting or voiding it goes through the review (approve, reject), whoever asks.
"""

from pathlib import Path

from alembic import op

revision = "p5_0001"
down_revision = "p4_0002"
branch_labels = None
depends_on = None

SQL = Path(__file__).with_suffix(".sql")


def upgrade() -> None:
    op.execute(SQL.read_text())


def downgrade() -> None:
    op.execute("""
    DROP TRIGGER transfers_fraud_review_guard ON transfers;
    DROP FUNCTION fraud_review_guard;
    DROP TABLE fraud_reviews;
    DROP TABLE fraud_decisions;
    """)
