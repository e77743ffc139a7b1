"""Phase 3: pay-ins, payouts, refunds, the webhook inbox, the saga log and state history.

Money through a provider we do not control, and every state each resource took.

Revision ID: p3_0001
Revises: p2_0002

What the database guarantees after this migration:
- a payment, payout or refund never moves backwards: the `payments_forward_only` trigger refuses
  any transition the state machine (fintech_core.payments.domain) does not allow, whoever writes;
- every state a resource took is in payment_state_history, written by a trigger, with its cause
  (api, webhook, poll, reconcile, worker);
- money reaches the ledger at most once per resource: `ledger_transfer_id` / `hold_id` are
  UNIQUE references to the ledger's transfers, set in the transaction that posts;
- a provider webhook is applied at most once: provider_inbox is keyed by (provider, webhook id)
  and written in the same transaction as the webhook's effect;
- the key we send to the provider (`provider_key`) is derived from our id and UNIQUE: a retry of
  the same payment reuses it, so the provider can never act twice for one payment.
"""

from pathlib import Path

from alembic import op

revision = "p3_0001"
down_revision = "p2_0002"
branch_labels = None
depends_on = None

SQL = Path(__file__).with_suffix(".sql")


def upgrade() -> None:
    op.execute(SQL.read_text())


def downgrade() -> None:
    op.execute("""
    DROP TABLE webhook_rejections, provider_inbox, payout_steps, payment_attempts,
               payment_state_history, refunds, payouts, payments;
    DROP FUNCTION payments_forward_only, payments_record_state, payments_allowed;
    """)
