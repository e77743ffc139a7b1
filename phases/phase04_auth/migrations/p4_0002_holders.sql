-- Phase 4: who holds each account, and the audit log of privileged changes.
-- Read with p4_0002_holders.py, which says what it guarantees.

ALTER TABLE accounts ADD COLUMN holder text CHECK (holder <> '');
COMMENT ON COLUMN accounts.holder IS 'The subject (token sub) that opened the account; NULL for accounts opened before phase 4. A customer reaches only the accounts they hold.';
CREATE INDEX accounts_holder_idx ON accounts (holder, id) WHERE holder IS NOT NULL;

CREATE FUNCTION accounts_holder_set_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.holder IS NOT NULL AND NEW.holder IS DISTINCT FROM OLD.holder THEN
        RAISE EXCEPTION 'account % is held by %; a holder never changes', OLD.id, OLD.holder
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER accounts_holder_set_once BEFORE UPDATE OF holder ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_holder_set_once();

CREATE TABLE audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL,
    action     text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.-]*$'),
    object_id  uuid NOT NULL,
    details    jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE audit_log IS 'Privileged changes (credit limits, amount limits), written in the change''s own transaction: no change without its record. Append-only (the trigger refuses UPDATE and DELETE).';

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
