-- Lab 1 schema, created by the lab's tests in a fresh database. Read it; do not change it.

CREATE TABLE lab1_accounts (
    id      text PRIMARY KEY,
    -- Integer minor units; the CHECK is the last line of defence if the code ever overdraws.
    balance bigint NOT NULL CHECK (balance >= 0)
);

-- One row per money movement, so a test can count effects instead of trusting responses.
CREATE TABLE lab1_transfers (
    id          bigserial PRIMARY KEY,
    source      text NOT NULL REFERENCES lab1_accounts (id),
    destination text NOT NULL REFERENCES lab1_accounts (id),
    amount      bigint NOT NULL CHECK (amount > 0)
);

CREATE TABLE lab1_idempotency_keys (
    -- The primary key is what makes a concurrent duplicate wait: a second INSERT of the same key
    -- blocks until the first transaction commits (then conflicts) or rolls back (then proceeds).
    key             text PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 255),
    -- Hash of the request the key was first used for: another request under it is refused.
    fingerprint     text NOT NULL,
    -- The first response, replayed to every retry. NULL only inside the transaction that
    -- claimed the key; once that commits, the response is there.
    response_status int,
    response_body   jsonb,
    created_at      timestamptz NOT NULL DEFAULT now()
);
