-- Lab 2 schema, created by the lab's tests in a fresh database. Read it; do not change it.
-- There is no balance column: a balance is the sum of the account's postings.

CREATE TABLE lab2_accounts (
    id              text PRIMARY KEY,
    currency        char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- Only the bank's funding account may go below zero: outside money enters the ledger
    -- through it, so its negative balance is exactly the money customers hold.
    allow_overdraft boolean NOT NULL DEFAULT false
);

-- One row per business event; its postings must sum to zero.
CREATE TABLE lab2_transactions (
    id         bigserial PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Immutable: corrections are new transactions, never UPDATEs.
CREATE TABLE lab2_postings (
    id             bigserial PRIMARY KEY,
    transaction_id bigint NOT NULL REFERENCES lab2_transactions (id),
    account_id     text NOT NULL REFERENCES lab2_accounts (id),
    -- Signed minor units: negative leaves the account, positive enters it.
    amount         bigint NOT NULL CHECK (amount <> 0)
);
CREATE INDEX lab2_postings_account_idx ON lab2_postings (account_id);
