"""Phase 0: accounts with a balance column, transfers as resources, idempotency keys.

Revision ID: p0_0001
Revises:
"""

from alembic import op

revision = "p0_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE accounts (
        id         uuid PRIMARY KEY,
        owner      text NOT NULL CHECK (length(owner) BETWEEN 1 AND 200),
        currency   char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
        status     text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'FROZEN', 'CLOSED')),
        balance    bigint NOT NULL DEFAULT 0 CHECK (balance >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    COMMENT ON TABLE accounts IS 'Phase 0 keeps the balance as a mutable column; phase 1 derives it from ledger postings.';
    COMMENT ON COLUMN accounts.id IS 'UUIDv7: time-ordered, so cursor pagination pages on the key.';
    COMMENT ON COLUMN accounts.balance IS 'Integer minor units (cents for EUR). CHECK >= 0 is the last line of defence against an overdraft bug.';
    COMMENT ON COLUMN accounts.status IS 'FROZEN and CLOSED accounts neither send nor receive.';
    CREATE INDEX accounts_owner_idx ON accounts (owner, id);

    CREATE TABLE transfers (
        id             uuid PRIMARY KEY,
        kind           text NOT NULL CHECK (kind IN ('TRANSFER', 'DEPOSIT')),
        source_id      uuid REFERENCES accounts (id),
        destination_id uuid NOT NULL REFERENCES accounts (id),
        amount         bigint NOT NULL CHECK (amount > 0),
        currency       char(3) NOT NULL,
        status         text NOT NULL CHECK (status IN ('PENDING', 'COMPLETED', 'FAILED')),
        reference      text CHECK (length(reference) <= 140),
        failure_code   text,
        created_at     timestamptz NOT NULL DEFAULT now(),
        CHECK ((kind = 'DEPOSIT') = (source_id IS NULL)),
        CHECK (source_id IS DISTINCT FROM destination_id),
        CHECK ((status = 'FAILED') = (failure_code IS NOT NULL))
    );
    COMMENT ON TABLE transfers IS 'Every attempt that reached the business rules, COMPLETED or FAILED: the answer to "did the money move?".';
    COMMENT ON COLUMN transfers.source_id IS 'NULL only for a deposit, whose money comes from outside the lab.';
    COMMENT ON COLUMN transfers.failure_code IS 'The problem code (e.g. insufficient-funds) of a FAILED transfer.';
    CREATE INDEX transfers_source_idx ON transfers (source_id, id);
    CREATE INDEX transfers_destination_idx ON transfers (destination_id, id);

    CREATE TABLE idempotency_keys (
        principal        text NOT NULL,
        key              text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
        fingerprint      text NOT NULL,
        response_status  int NOT NULL,
        response_body    json NOT NULL,
        response_headers jsonb NOT NULL DEFAULT '{}',
        created_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (principal, key)
    );
    COMMENT ON TABLE idempotency_keys IS 'The first response to each (caller, Idempotency-Key), written in the same transaction as the work, replayed on retries, reaped after the retention window.';
    COMMENT ON COLUMN idempotency_keys.response_body IS 'json, not jsonb: json keeps the text as written, so a replay is byte-identical to the first response.';
    COMMENT ON COLUMN idempotency_keys.fingerprint IS 'sha256 of method, path, caller and canonical body: the same key with another request is refused (422).';
    CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

    CREATE TABLE naive_accounts (
        id      serial PRIMARY KEY,
        owner   text NOT NULL,
        balance double precision NOT NULL
    );
    COMMENT ON TABLE naive_accounts IS 'DELIBERATELY BROKEN BASELINE for the drills: float balances, no constraints, no ledger.';
    """)


def downgrade() -> None:
    op.execute("DROP TABLE naive_accounts, idempotency_keys, transfers, accounts")
