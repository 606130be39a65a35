-- Authenticated requests per UTC day (days since the Unix epoch) and credential kind, for
-- Admin › Overview (SPEC §14): counted in memory and added here at most once a minute.

CREATE TABLE request_counts (
    day      BIGINT NOT NULL,
    kind     TEXT NOT NULL,
    requests BIGINT NOT NULL,
    PRIMARY KEY (day, kind)
);
