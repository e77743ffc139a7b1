-- Phase 5: flags raised by the async fraud rules (fraud/async_rules.py).
-- Read with p5_0002_fraud_flags.py, which says what it guarantees.

CREATE TABLE fraud_flags (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id),
    rule        text NOT NULL CHECK (rule IN ('fan-out', 'structuring', 'mule')),
    severity    text NOT NULL CHECK (severity IN ('medium', 'high')),
    event_id    uuid NOT NULL,
    transfer_id uuid NOT NULL REFERENCES transfers (id),
    observed_at timestamptz NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object'),
    froze       boolean NOT NULL DEFAULT false,
    flagged_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (event_id, rule),
    CHECK (NOT froze OR severity = 'high')
);
COMMENT ON TABLE fraud_flags IS 'What the async fraud rules concluded about an account, after the fact and with no time budget; written with its fraud.* events (outbox) and, when severe, the freeze, in one transaction.';
COMMENT ON COLUMN fraud_flags.rule IS 'fan-out (many new beneficiaries in 24 h), structuring (many transfers just under a threshold in 24 h), mule (money in, then out within an hour).';
COMMENT ON COLUMN fraud_flags.severity IS 'high freezes the account (if it is not frozen or closed already); medium is for a human to look at.';
COMMENT ON COLUMN fraud_flags.event_id IS 'The transfer event that revealed the pattern; with rule, unique: a redelivered event flags once.';
COMMENT ON COLUMN fraud_flags.observed_at IS 'The revealing transfer''s created_at: the end of the window the rule read, so a re-read gives the same answer, and a pattern already flagged in its window is not flagged again.';
COMMENT ON COLUMN fraud_flags.details IS 'The window''s figures the rule compared (counts, sums in minor units).';
COMMENT ON COLUMN fraud_flags.froze IS 'This flag froze the account (it was ACTIVE). The freeze is the accounts slice''s status change.';

CREATE INDEX fraud_flags_account_idx ON fraud_flags (account_id, rule, observed_at);

-- The rules' windows: "transfers out of S since t" and "transfers into D since t". The phase-0
-- indexes are on (side, id); ids are time-ordered, but created_at is the clock the rules read.
CREATE INDEX transfers_source_created_idx ON transfers (source_id, created_at)
    WHERE source_id IS NOT NULL;
CREATE INDEX transfers_destination_created_idx ON transfers (destination_id, created_at)
    WHERE destination_id IS NOT NULL;

-- The phase-5 contract names its events with a hyphen (fraud.account-flagged.v1); the phase-2
-- pattern allowed [a-z_] only. Widened for the event name, the domain and version unchanged.
ALTER TABLE outbox DROP CONSTRAINT outbox_event_type_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_event_type_check
    CHECK (event_type ~ '^[a-z_]+\.[a-z_-]+\.v[0-9]+$');
