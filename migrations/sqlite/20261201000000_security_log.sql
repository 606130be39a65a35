-- The security log (SPEC §10): every event about a user's account and tokens, newest first.
-- Token and acting user are kept by id and, for the token, by the name it had then: a deleted
-- token's events stay readable. Never a secret.

CREATE TABLE security_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    at         INTEGER NOT NULL,
    client_ip  TEXT,
    user_agent TEXT,
    token_id   INTEGER,
    token_name TEXT,
    actor_id   INTEGER,
    detail     TEXT
);

CREATE INDEX security_events_by_user ON security_events (user_id, id);
CREATE INDEX security_events_by_age ON security_events (at);

-- Whether the "expired" event of the token's current expiry is in the log; regenerating sets a
-- new expiry and clears it.
ALTER TABLE personal_access_tokens ADD COLUMN expiry_logged BOOLEAN NOT NULL DEFAULT 0;
