-- The audit log (SPEC §14): every administrative action, append-only; and the instance's token
-- policy, one row, which only tightens SPEC §3.

CREATE TABLE audit_log (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor_id   BIGINT,
    action     TEXT NOT NULL,
    user_id    BIGINT,
    token_id   BIGINT,
    token_name TEXT,
    detail     TEXT,
    client_ip  TEXT,
    user_agent TEXT
);

CREATE INDEX audit_log_by_actor ON audit_log (actor_id, id);

-- Append-only whatever the code does: updates, deletes and truncation are refused.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE policy (
    id                       INTEGER PRIMARY KEY CHECK (id = 1),
    max_lifetime_days        INTEGER NOT NULL,
    max_active_tokens        INTEGER NOT NULL,
    revoke_unused_after_days INTEGER,
    token_creators           TEXT NOT NULL CHECK (token_creators IN ('everyone', 'admins'))
);

INSERT INTO policy (id, max_lifetime_days, max_active_tokens, token_creators)
VALUES (1, 365, 5, 'everyone');
