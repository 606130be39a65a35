-- Leaked-token reports waiting to be handled (SPEC §13): queued before the reporter has its
-- answer, handled by a background worker one at a time, retried until done, then deleted.
CREATE TABLE leak_reports (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at     BIGINT NOT NULL,
    -- The SHA-256 digests (hex) of the well-formed PATs the report held, one per line.
    digests         TEXT NOT NULL,
    client_ip       TEXT,
    user_agent      TEXT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL
);
CREATE INDEX leak_reports_due ON leak_reports (next_attempt_at, id);

-- The sender takes one notification per destination at a time (SPEC §11 fairness).
CREATE INDEX outbox_pending_by_recipient ON outbox (recipient, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;

-- PostgreSQL has no INSERT OR REPLACE; INSERT … ON CONFLICT DO UPDATE fires the update trigger,
-- which refuses it. Nothing to add for the audit log here.
