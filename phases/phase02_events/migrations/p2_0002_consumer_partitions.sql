CREATE TABLE consumer_partitions (
    consumer         text NOT NULL,
    topic            text NOT NULL,
    kafka_partition  integer NOT NULL CHECK (kafka_partition >= 0),
    next_offset      bigint NOT NULL DEFAULT 0 CHECK (next_offset >= 0),
    epoch            bigint NOT NULL DEFAULT 0,
    owner            text,
    lease_expires_at timestamptz,
    PRIMARY KEY (consumer, topic, kafka_partition),
    CHECK ((owner IS NULL) = (lease_expires_at IS NULL))
);
COMMENT ON TABLE consumer_partitions IS 'Which consumer process owns which partition, and where it resumes. Replaces broker consumer groups: no group join, no broker-side commit, nothing a rebalance can stall.';
COMMENT ON COLUMN consumer_partitions.next_offset IS 'The offset to read next. Advanced in the same transaction as the effect and the processed_events row, so the position can never run ahead of (or behind) what was applied.';
COMMENT ON COLUMN consumer_partitions.epoch IS 'Fencing token: +1 at every claim and when the relay recreates the topic. A process advances the offset only WHERE epoch = the epoch it claimed, so a process that lost its partition (lease expired, killed, paused) cannot commit another effect for it.';
COMMENT ON COLUMN consumer_partitions.owner IS 'The owning process (host:pid:random), NULL when free. Claimed when free or its lease expired.';
COMMENT ON COLUMN consumer_partitions.lease_expires_at IS 'Renewed by the owner every second or so; a SIGKILLed owner''s partitions are claimed by another process once this passes.';

CREATE TABLE consumer_members (
    consumer     text NOT NULL,
    owner        text NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (consumer, owner)
);
COMMENT ON TABLE consumer_members IS 'Live consumer processes, renewed with their leases: each takes ceil(partitions / live members) partitions, so a new process gets a share and a dead one''s share is spread over the rest.';

CREATE TABLE event_topics (
    topic       text PRIMARY KEY,
    topic_id    text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE event_topics IS 'The broker''s id of the topic incarnation the stored offsets refer to. The memory broker loses its topics on restart, and a consumer fetching from a missing topic makes it create one (4 partitions, whatever the client asks). The relay compares this id with the broker''s: a different one means a new, empty topic, so it re-queues the unconsumed events and resets every consumer offset to 0.';
