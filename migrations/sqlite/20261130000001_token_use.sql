-- Where and how much each token is used (SPEC §10): its most recent client addresses, and its
-- authenticated requests per UTC day (days since the Unix epoch), gathered in memory and added
-- here at most once a minute.

CREATE TABLE token_addresses (
    token_id     INTEGER NOT NULL REFERENCES personal_access_tokens (id) ON DELETE CASCADE,
    ip           TEXT NOT NULL,
    last_seen_at INTEGER NOT NULL,
    PRIMARY KEY (token_id, ip)
);

CREATE TABLE token_usage (
    token_id INTEGER NOT NULL REFERENCES personal_access_tokens (id) ON DELETE CASCADE,
    day      INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    PRIMARY KEY (token_id, day)
);
