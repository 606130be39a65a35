-- Authenticated requests per UTC day (days since the Unix epoch) and credential kind, for
-- Admin › Overview (SPEC §14): counted in memory and added here at most once a minute.

CREATE TABLE request_counts (
    day      INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    requests INTEGER NOT NULL,
    PRIMARY KEY (day, kind)
);
