-- Lab 5 schema, created by the lab's tests in a fresh database. Read it; do not change it.

-- Accounts and their daily outgoing limit, in integer minor units (10000 = 100.00).
CREATE TABLE lab5_accounts (
    account_id  text PRIMARY KEY,
    daily_limit bigint NOT NULL CHECK (daily_limit >= 0)
);

-- What left each account per UTC day: one counter row per (account, day), created by the day's
-- first transfer. There is deliberately no foreign key and no trigger here: the counter stands
-- for any store you might keep it in (a Redis key, another service), and nothing but your code
-- stands between it and the limit. (The core adds a trigger as a last line of defence; see
-- shared/fintech_core/limits/README.md.)
CREATE TABLE lab5_daily_outgoing (
    account_id text NOT NULL,
    day        date NOT NULL,
    amount     bigint NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (account_id, day)
);

-- The money that moved: one row per accepted transfer (written by the given post_transfer).
CREATE TABLE lab5_transfers (
    transfer_id text PRIMARY KEY,
    account_id  text NOT NULL REFERENCES lab5_accounts (account_id),
    amount      bigint NOT NULL CHECK (amount > 0),
    day         date NOT NULL
);
