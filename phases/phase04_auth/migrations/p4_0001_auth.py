"""Phase 4: users and service clients, refresh-token families, login failures, amount limits.

Who may move money, and how much.

Revision ID: p4_0001
Revises: p3_0001

What the database guarantees after this migration:
- a password or client secret is stored only as an scrypt hash (auth/passwords.py's format,
  checked by a CHECK), never in clear;
- a refresh token is stored only as its SHA-256; each belongs to one family (one login), and a
  revoked family stays revoked (`refresh_families_revoked_once`): reuse detection cannot be
  undone by a later write;
- login failures are counted per (account, IP) and per IP (auth/throttle.py), never per account
  alone;
- an account's outgoing total for a UTC day never exceeds its daily limit, whoever writes: the
  `account_daily_outgoing_within_limit` trigger refuses it (the transfer step refuses first, with
  a problem; the trigger is the last line of defence, like accounts.balance's CHECK).
"""

from pathlib import Path

from alembic import op

revision = "p4_0001"
down_revision = "p3_0001"
branch_labels = None
depends_on = None

SQL = Path(__file__).with_suffix(".sql")


def upgrade() -> None:
    op.execute(SQL.read_text())


def downgrade() -> None:
    op.execute("""
    DROP TABLE account_daily_outgoing, account_limits, login_failures, refresh_tokens,
               refresh_families, auth_clients, auth_users;
    DROP FUNCTION account_daily_outgoing_within_limit, refresh_families_revoked_once;
    """)
