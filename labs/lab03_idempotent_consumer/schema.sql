-- Lab 3 schema, created by the lab's tests in a fresh database. Read it; do not change it.

-- The read model the consumer maintains: one row per applied event. There is deliberately no
-- unique constraint on event_id here: it stands for an effect that cannot deduplicate itself
-- (a balance increment, an email, a call to a card network). Deduplication is the consumer's job.
CREATE TABLE lab3_account_activity (
    id         bigserial PRIMARY KEY,
    account_id text NOT NULL,
    event_id   text NOT NULL,
    amount     bigint NOT NULL CHECK (amount <> 0)  -- minor units; negative is a debit
);

-- The inbox: which events each consumer has applied. The primary key is what turns a
-- redelivery into a no-op, and because it lives in the same database as the read model, the
-- marker and the effect can commit in one transaction.
CREATE TABLE lab3_processed_events (
    consumer     text NOT NULL,
    event_id     text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
