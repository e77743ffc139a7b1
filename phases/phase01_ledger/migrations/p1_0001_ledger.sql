-- Phase 1 schema. Read with p1_0001_ledger.py, which says what it guarantees.

-- ---------------------------------------------------------------------------------------------
-- Append-only tables share one guard.
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused; correct it with a new journal entry',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'object_not_in_prerequisite_state';
END $$;

-- ---------------------------------------------------------------------------------------------
-- transfers: withdrawals (no destination), reversals (linked), holds (PENDING -> ...).
ALTER TABLE transfers
    DROP CONSTRAINT transfers_kind_check,
    DROP CONSTRAINT transfers_status_check,
    DROP CONSTRAINT transfers_check,
    ALTER COLUMN destination_id DROP NOT NULL,
    ADD COLUMN reverses_id uuid UNIQUE REFERENCES transfers (id),
    ADD CONSTRAINT transfers_kind_check
        CHECK (kind IN ('TRANSFER', 'DEPOSIT', 'WITHDRAWAL', 'REVERSAL')),
    ADD CONSTRAINT transfers_status_check
        CHECK (status IN ('PENDING', 'COMPLETED', 'FAILED', 'VOIDED', 'EXPIRED')),
    ADD CONSTRAINT transfers_sides_check CHECK (CASE kind
        WHEN 'TRANSFER' THEN source_id IS NOT NULL AND destination_id IS NOT NULL
        WHEN 'DEPOSIT' THEN source_id IS NULL AND destination_id IS NOT NULL
        WHEN 'WITHDRAWAL' THEN source_id IS NOT NULL AND destination_id IS NULL
        ELSE num_nonnulls(source_id, destination_id) >= 1 END),
    ADD CONSTRAINT transfers_reversal_check CHECK ((kind = 'REVERSAL') = (reverses_id IS NOT NULL));
COMMENT ON COLUMN transfers.reverses_id IS 'The COMPLETED transfer this REVERSAL compensates. UNIQUE: a transfer is reversed at most once.';
COMMENT ON COLUMN transfers.destination_id IS 'NULL only for a withdrawal (and the reversal of a deposit): the money leaves the lab.';
-- Open holds are few; this partial index keeps release-on-touch and the sweeper cheap.
CREATE INDEX transfers_pending_idx ON transfers (source_id) WHERE status = 'PENDING';

CREATE FUNCTION ledger_guard_transfer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'transfers are never deleted' USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF (NEW.id, NEW.kind, NEW.source_id, NEW.destination_id, NEW.amount, NEW.currency,
        NEW.reference, NEW.failure_code, NEW.created_at, NEW.reverses_id)
       IS DISTINCT FROM (OLD.id, OLD.kind, OLD.source_id, OLD.destination_id, OLD.amount,
        OLD.currency, OLD.reference, OLD.failure_code, OLD.created_at, OLD.reverses_id) THEN
        RAISE EXCEPTION 'only the status of transfer % may change', OLD.id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (OLD.status = 'PENDING'
       AND NEW.status IN ('COMPLETED', 'VOIDED', 'EXPIRED')) THEN
        RAISE EXCEPTION 'illegal transition of transfer %: % -> %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER transfers_guard BEFORE UPDATE OR DELETE ON transfers
    FOR EACH ROW EXECUTE FUNCTION ledger_guard_transfer();

CREATE TABLE transfer_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transfer_id uuid NOT NULL REFERENCES transfers (id),
    from_status text,
    to_status   text NOT NULL,
    at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE transfer_events IS 'Every status a transfer took, written by a trigger on transfers, so no code path can change a status without leaving history.';
CREATE INDEX transfer_events_transfer_idx ON transfer_events (transfer_id, id);
CREATE TRIGGER transfer_events_append_only BEFORE UPDATE OR DELETE ON transfer_events
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

CREATE FUNCTION ledger_record_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO transfer_events (transfer_id, from_status, to_status)
        VALUES (NEW.id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER transfers_history AFTER INSERT OR UPDATE OF status ON transfers
    FOR EACH ROW EXECUTE FUNCTION ledger_record_status();

CREATE TABLE holds (
    transfer_id uuid PRIMARY KEY REFERENCES transfers (id),
    expires_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (expires_at IS NULL OR expires_at > created_at)
);
COMMENT ON TABLE holds IS 'Marks a transfer as two-phase. Its amount is the transfer''s; its state is the transfer''s status.';
COMMENT ON COLUMN holds.expires_at IS 'After this instant the reservation is released (EXPIRE entry backdated to it); NULL: until posted or voided.';
CREATE TRIGGER holds_append_only BEFORE UPDATE OR DELETE ON holds
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

-- ---------------------------------------------------------------------------------------------
-- ledger_accounts: one per customer account (same id) plus the system accounts; the balance
-- projection lives here, in TigerBeetle's style, next to the policy that constrains it.
ALTER TABLE accounts ADD CONSTRAINT accounts_id_currency_key UNIQUE (id, currency);
CREATE TABLE ledger_accounts (
    id           uuid PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('CUSTOMER', 'SYSTEM')),
    account_id   uuid UNIQUE,
    name         text UNIQUE CHECK (name ~ '^@[a-z]+:[a-z-]+:[A-Z]{3}$'),
    currency     char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    credit_limit bigint CHECK (credit_limit >= 0),
    posted       bigint NOT NULL DEFAULT 0,
    pending_out  bigint NOT NULL DEFAULT 0 CHECK (pending_out >= 0),
    pending_in   bigint NOT NULL DEFAULT 0 CHECK (pending_in >= 0),
    version      bigint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, currency),
    FOREIGN KEY (account_id, currency) REFERENCES accounts (id, currency),
    CHECK ((kind = 'CUSTOMER') = (account_id IS NOT NULL)),
    CHECK (account_id IS NULL OR account_id = id),
    CHECK ((kind = 'SYSTEM') = (name IS NOT NULL)),
    CHECK ((kind = 'CUSTOMER') = (credit_limit IS NOT NULL)),
    CONSTRAINT ledger_accounts_overdraft
        CHECK (credit_limit IS NULL OR posted - pending_out >= -credit_limit)
);
COMMENT ON TABLE ledger_accounts IS 'The balance projection: sums of postings per bucket, written only by the posting trigger in the transaction that appends the postings; `fincore ledger verify` recomputes it.';
COMMENT ON COLUMN ledger_accounts.credit_limit IS 'How far below zero available (posted - pending_out) may go: 0 = never overdrawn; NULL = unlimited, system accounts only.';
COMMENT ON COLUMN ledger_accounts.pending_out IS 'Reserved by open holds this account pays; CHECK >= 0 catches a release without a reservation (a double void).';
COMMENT ON COLUMN ledger_accounts.version IS 'Postings applied so far; each posting stores the value as its account_seq (the statement cursor).';

-- Phase 0's balance column survives as a mirror of the posted balance, written by the ledger only.
-- Its CHECK (balance >= 0) moves to ledger_accounts_overdraft, which knows credit limits.
ALTER TABLE accounts DROP CONSTRAINT accounts_balance_check;
COMMENT ON COLUMN accounts.balance IS 'Phase 1: a mirror of ledger_accounts.posted, written only by the posting trigger.';

-- Writes to balances from anywhere but the posting trigger are refused: pg_trigger_depth() is 1
-- for a client's own UPDATE and 2 when ledger_apply_posting issues it.
CREATE FUNCTION ledger_guard_projection() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'ledger account balances change only by appending postings (% refused)',
            TG_OP USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ledger_accounts_guard BEFORE UPDATE OR DELETE ON ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_guard_projection();

CREATE FUNCTION ledger_guard_mirror() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.balance IS DISTINCT FROM OLD.balance AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'in phase 1 accounts.balance is a projection of the ledger; append postings'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER accounts_balance_guard BEFORE UPDATE OF balance ON accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_guard_mirror();

-- Every customer account has its ledger account by the end of the transaction that opens it.
CREATE FUNCTION ledger_account_has_ledger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ledger_accounts WHERE id = NEW.id) THEN
        RAISE EXCEPTION 'account % has no ledger account', NEW.id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER accounts_have_ledger AFTER INSERT ON accounts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_account_has_ledger();

-- ---------------------------------------------------------------------------------------------
-- The journal.
CREATE TABLE journal_entries (
    id           uuid PRIMARY KEY,
    transfer_id  uuid NOT NULL REFERENCES transfers (id) DEFERRABLE INITIALLY DEFERRED,
    kind         text NOT NULL CHECK (kind IN ('TRANSFER', 'DEPOSIT', 'WITHDRAWAL', 'HOLD', 'POST',
                                               'VOID', 'EXPIRE', 'REVERSAL')),
    created_at   timestamptz NOT NULL,
    effective_at timestamptz NOT NULL,
    CHECK (effective_at <= created_at)
);
COMMENT ON TABLE journal_entries IS 'One balanced set of postings, written in one transaction; every money movement, deposits and expiries included.';
COMMENT ON COLUMN journal_entries.transfer_id IS 'Deferred FK: the pipeline appends postings before it records the transfer row, in the same transaction.';
COMMENT ON COLUMN journal_entries.effective_at IS 'When it takes effect for balance-as-of: created_at, except an EXPIRE entry, backdated to the hold''s expiry.';
CREATE INDEX journal_entries_transfer_idx ON journal_entries (transfer_id, created_at);
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

CREATE TABLE postings (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    journal_id    uuid NOT NULL REFERENCES journal_entries (id),
    account_id    uuid NOT NULL,
    currency      char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    bucket        text NOT NULL CHECK (bucket IN ('POSTED', 'PENDING_OUT', 'PENDING_IN')),
    direction     text NOT NULL CHECK (direction IN ('DEBIT', 'CREDIT')),
    amount        bigint NOT NULL CHECK (amount > 0),
    signed_amount bigint GENERATED ALWAYS AS
                  (CASE direction WHEN 'CREDIT' THEN amount ELSE -amount END) STORED,
    account_seq   bigint NOT NULL,
    balance_after bigint NOT NULL,
    created_at    timestamptz NOT NULL,
    FOREIGN KEY (account_id, currency) REFERENCES ledger_accounts (id, currency),
    UNIQUE (account_id, account_seq)
);
COMMENT ON TABLE postings IS 'Immutable double-entry lines. Balances are sums of these; everything else is a projection.';
COMMENT ON COLUMN postings.amount IS 'Always > 0; the sign is the direction (CREDIT +, DEBIT -), so a wrong sign cannot hide in the amount.';
COMMENT ON COLUMN postings.bucket IS 'POSTED settled money; PENDING_OUT / PENDING_IN reservations of open holds (see fintech_core.ledger.model).';
COMMENT ON COLUMN postings.balance_after IS 'The account''s value of this bucket after this posting: the running balance of a statement, and balance-as-of without a SUM.';
COMMENT ON COLUMN postings.created_at IS 'clock_timestamp() after the account row is locked, so per account it orders like account_seq and commit order.';
CREATE INDEX postings_journal_idx ON postings (journal_id);
CREATE INDEX postings_account_time_idx ON postings (account_id, bucket, created_at);
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- The projection: each posting updates its account's bucket in the same statement. Safe from lost
-- updates because the UPDATE takes the row lock (the service already holds it, in id order).
CREATE FUNCTION ledger_apply_posting() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta bigint := CASE NEW.direction WHEN 'CREDIT' THEN NEW.amount ELSE -NEW.amount END;
    acc ledger_accounts%ROWTYPE;
BEGIN
    UPDATE ledger_accounts SET
        posted      = posted      + CASE WHEN NEW.bucket = 'POSTED' THEN delta ELSE 0 END,
        pending_out = pending_out - CASE WHEN NEW.bucket = 'PENDING_OUT' THEN delta ELSE 0 END,
        pending_in  = pending_in  + CASE WHEN NEW.bucket = 'PENDING_IN' THEN delta ELSE 0 END,
        version     = version + 1
    WHERE id = NEW.account_id AND currency = NEW.currency
    RETURNING * INTO acc;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no % ledger account %', NEW.currency, NEW.account_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    NEW.account_seq := acc.version;
    NEW.balance_after := CASE NEW.bucket WHEN 'POSTED' THEN acc.posted
                         WHEN 'PENDING_OUT' THEN acc.pending_out ELSE acc.pending_in END;
    NEW.created_at := clock_timestamp();
    IF NEW.bucket = 'POSTED' AND acc.kind = 'CUSTOMER' THEN
        UPDATE accounts SET balance = acc.posted, updated_at = now() WHERE id = acc.id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER postings_apply BEFORE INSERT ON postings
    FOR EACH ROW EXECUTE FUNCTION ledger_apply_posting();

-- Sum-to-zero, checked at COMMIT (deferred): the entry is whole by then, whatever order its
-- postings were inserted in. Fired by each posting and by each entry, so an entry with no
-- postings, or postings added to an old entry later, are both refused.
CREATE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    entry uuid := (to_jsonb(NEW) ->> TG_ARGV[0])::uuid;  -- the entry id column, per table
    postings bigint;
    unbalanced text;
BEGIN
    SELECT coalesce(sum(n), 0), string_agg(format('%s %s sums to %s', currency,
               CASE WHEN posted THEN 'posted' ELSE 'pending' END, total), ', ')
               FILTER (WHERE total <> 0)
      INTO postings, unbalanced
      FROM (SELECT currency, bucket = 'POSTED' AS posted, count(*) AS n,
                   sum(signed_amount) AS total
              FROM postings WHERE journal_id = entry GROUP BY 1, 2) g;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'journal entry % does not balance: %', entry, unbalanced
            USING ERRCODE = 'check_violation';
    END IF;
    IF postings < 2 THEN
        RAISE EXCEPTION 'journal entry % has fewer than two postings', entry
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_balanced('journal_id');
CREATE CONSTRAINT TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_balanced('id');

-- Phase databases start empty (one per phase); refuse to adopt balances the ledger cannot explain.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM accounts WHERE balance <> 0) THEN
        RAISE EXCEPTION 'phase 1 starts from a database without balances (each phase has its own)';
    END IF;
    INSERT INTO ledger_accounts (id, kind, account_id, currency, credit_limit)
    SELECT id, 'CUSTOMER', id, currency, 0 FROM accounts;
END $$;
