-- Lab 4 schema, created by the lab's tests in a fresh database. Read it; do not change it.

-- Payments as this service knows them. The provider owns the truth and tells us by webhook; the
-- status only ever moves forward (pending -> succeeded or failed -> refunded), so a late or
-- reordered webhook can never drag a refunded payment back to succeeded.
CREATE TABLE lab4_payments (
    payment_id text PRIMARY KEY,
    merchant   text NOT NULL,
    amount     bigint NOT NULL CHECK (amount > 0),  -- integer minor units
    status     text NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'succeeded', 'failed', 'refunded'))
);

-- The effect a webhook has on money: one row per movement of the merchant's balance. There is
-- deliberately no unique constraint on webhook_id: it stands for an effect that cannot
-- deduplicate itself (a balance increment, a payout, an email). Deduplication is the inbox's job.
CREATE TABLE lab4_merchant_ledger (
    id         bigserial PRIMARY KEY,
    merchant   text NOT NULL,
    payment_id text NOT NULL REFERENCES lab4_payments (payment_id),
    webhook_id text NOT NULL,
    amount     bigint NOT NULL CHECK (amount <> 0)  -- minor units; negative is a debit
);

-- The inbox: every verified webhook this service has accepted, keyed by the sender's
-- webhook-id (the same on every retry of one message). The primary key turns a redelivery into
-- a no-op, and because it lives beside the effect, the two can commit in one transaction.
CREATE TABLE lab4_webhook_inbox (
    webhook_id  text PRIMARY KEY CHECK (length(webhook_id) BETWEEN 1 AND 255),
    event_type  text NOT NULL,
    payment_id  text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
