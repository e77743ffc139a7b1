CREATE TABLE outbox (
    seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id       uuid NOT NULL UNIQUE,
    aggregate_type text NOT NULL CHECK (aggregate_type ~ '^[a-z_]+$'),
    aggregate_id   uuid NOT NULL,
    event_type     text NOT NULL CHECK (event_type ~ '^[a-z_]+\.[a-z_]+\.v[0-9]+$'),
    payload        jsonb NOT NULL,
    headers        jsonb NOT NULL DEFAULT '{}',
    lane           smallint NOT NULL GENERATED ALWAYS AS (get_byte(uuid_send(aggregate_id), 15) % 8) STORED,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at   timestamptz,
    publish_count  integer NOT NULL DEFAULT 0 CHECK (publish_count >= 0)
);
COMMENT ON TABLE outbox IS 'Events written in the same transaction as the change they announce; the relay publishes them. At-least-once: a row may be published more than once, never zero times.';
COMMENT ON COLUMN outbox.seq IS 'Insert order. Rows of one aggregate are inserted under that aggregate''s row lock, so per aggregate seq order is commit order.';
COMMENT ON COLUMN outbox.event_id IS 'The idempotency key of every consumer: processed_events is keyed by it.';
COMMENT ON COLUMN outbox.aggregate_id IS 'The Kafka message key: one key, one partition, so events of one account keep their order.';
COMMENT ON COLUMN outbox.event_type IS 'Name and schema version, e.g. transfer.completed.v1: a consumer refuses a version it does not know instead of guessing.';
COMMENT ON COLUMN outbox.headers IS 'Travel as Kafka headers: correlation id (the transfer the event belongs to).';
COMMENT ON COLUMN outbox.lane IS 'Relays claim whole lanes (advisory locks), so two relays never publish events of one key concurrently and per-key order survives several relays.';
COMMENT ON COLUMN outbox.published_at IS 'NULL: not yet acknowledged by the broker (acks=all). Replay sets it back to NULL. Published rows are deleted after the retention window.';
COMMENT ON COLUMN outbox.publish_count IS 'How many times the row was marked published (> 1 after a replay). A relay crash between publish and mark sends without counting: consumers, not this column, absorb duplicates.';
CREATE INDEX outbox_unpublished_idx ON outbox (lane, seq) WHERE published_at IS NULL;
CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL;

CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('fincore_outbox', '');
    RETURN NULL;
END $$;
COMMENT ON FUNCTION outbox_notify IS 'NOTIFY is delivered at COMMIT and folded per transaction: one wake-up per committed batch, none for a rollback.';
CREATE TRIGGER outbox_wake_relay AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

CREATE TABLE processed_events (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    event_type   text NOT NULL,
    outbox_seq   bigint,
    topic        text NOT NULL,
    kafka_partition integer NOT NULL,
    kafka_offset bigint NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (consumer, event_id)
);
COMMENT ON TABLE processed_events IS 'Written in the same transaction as the consumer''s effect: a redelivered event finds its row and is skipped, so the effect happens once per (consumer, event).';
COMMENT ON COLUMN processed_events.outbox_seq IS 'The outbox row this event came from (status computes progress from it, never from broker offsets).';
COMMENT ON COLUMN processed_events.processed_at IS 'clock_timestamp() inside the effect''s transaction: commit-to-consume lag is processed_at - outbox.created_at.';

CREATE TABLE dead_letters (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consumer      text NOT NULL,
    event_id      uuid,
    event_type    text,
    error         text NOT NULL,
    attempts      integer NOT NULL CHECK (attempts >= 1),
    topic         text NOT NULL,
    kafka_partition integer NOT NULL,
    kafka_offset  bigint NOT NULL,
    record_key    bytea,
    record_value  bytea NOT NULL,
    record_headers jsonb NOT NULL DEFAULT '{}',
    dead_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    resolved_at   timestamptz
);
COMMENT ON TABLE dead_letters IS 'Messages a consumer gave up on (also published to the DLQ topic). Kept here because the embedded broker forgets its topics on restart; `fincore events dlq replay` feeds them back once fixed.';
COMMENT ON COLUMN dead_letters.event_id IS 'NULL when the message was too malformed to name its event.';
COMMENT ON COLUMN dead_letters.resolved_at IS 'Set in the same transaction as the successful replay''s effect (or when the event turns out already processed).';
CREATE UNIQUE INDEX dead_letters_open_idx ON dead_letters (consumer, event_id) WHERE resolved_at IS NULL;
COMMENT ON INDEX dead_letters_open_idx IS 'One open dead letter per consumer and event: a redelivered poison message updates it instead of piling up.';

CREATE TABLE account_activity (
    account_id  uuid NOT NULL,
    entry_id    uuid NOT NULL,
    bucket      text NOT NULL CHECK (bucket IN ('POSTED', 'PENDING_OUT', 'PENDING_IN')),
    amount      bigint NOT NULL CHECK (amount <> 0),
    currency    char(3) NOT NULL,
    transfer_id uuid NOT NULL,
    event_id    uuid NOT NULL,
    event_type  text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (entry_id, account_id, bucket)
);
COMMENT ON TABLE account_activity IS 'Read model built by the "activity" consumer from events only: one line per account, bucket and journal entry. Verified against the ledger''s postings by `fincore events verify`.';
COMMENT ON COLUMN account_activity.amount IS 'Signed like postings.signed_amount (credit +, debit -), so sums compare directly.';
CREATE INDEX account_activity_account_idx ON account_activity (account_id, recorded_at);

CREATE TABLE audit_trail (
    event_id       uuid PRIMARY KEY,
    event_type     text NOT NULL,
    aggregate_type text NOT NULL,
    aggregate_id   uuid NOT NULL,
    correlation_id text,
    payload        jsonb NOT NULL,
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE audit_trail IS 'Every event, once, as the "audit" consumer received it: who can reconstruct what happened to a transfer, without the request path.';
COMMENT ON COLUMN audit_trail.event_id IS 'PRIMARY KEY as a last line of defence behind processed_events.';
COMMENT ON COLUMN audit_trail.correlation_id IS 'From the Kafka headers: the transfer the event belongs to, to follow one transfer''s story.';
CREATE INDEX audit_trail_correlation_idx ON audit_trail (correlation_id, occurred_at);
