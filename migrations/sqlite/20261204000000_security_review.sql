-- Leaked-token reports waiting to be handled (SPEC §13): queued before the reporter has its
-- answer, handled by a background worker one at a time, retried until done, then deleted.
CREATE TABLE leak_reports (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at     INTEGER NOT NULL,
    -- The SHA-256 digests (hex) of the well-formed PATs the report held, one per line.
    digests         TEXT NOT NULL,
    client_ip       TEXT,
    user_agent      TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL
);
CREATE INDEX leak_reports_due ON leak_reports (next_attempt_at, id);

-- The sender takes one notification per destination at a time (SPEC §11 fairness).
CREATE INDEX outbox_pending_by_recipient ON outbox (recipient, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;

-- INSERT OR REPLACE deletes the row it replaces without firing the delete trigger: an insert
-- over an existing entry is refused too.
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
