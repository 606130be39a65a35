-- The audit log (SPEC §14): every administrative action, append-only; and the instance's token
-- policy, one row, which only tightens SPEC §3.

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    actor_id   INTEGER,
    action     TEXT NOT NULL,
    user_id    INTEGER,
    token_id   INTEGER,
    token_name TEXT,
    detail     TEXT,
    client_ip  TEXT,
    user_agent TEXT
);

CREATE INDEX audit_log_by_actor ON audit_log (actor_id, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE policy (
    id                       INTEGER PRIMARY KEY CHECK (id = 1),
    max_lifetime_days        INTEGER NOT NULL,
    max_active_tokens        INTEGER NOT NULL,
    revoke_unused_after_days INTEGER,
    token_creators           TEXT NOT NULL CHECK (token_creators IN ('everyone', 'admins'))
);

INSERT INTO policy (id, max_lifetime_days, max_active_tokens, token_creators)
VALUES (1, 365, 5, 'everyone');
