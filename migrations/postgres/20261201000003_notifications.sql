-- Notifications (SPEC §11): e-mail addresses verified by a link, one webhook per user, a secret
-- calendar feed, and the outbox every mail and webhook delivery goes through.

ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
-- The SHA-256 digest of the user's calendar feed secret, if there is a feed.
ALTER TABLE users ADD COLUMN calendar_feed_digest TEXT;
CREATE UNIQUE INDEX users_calendar_feed ON users (calendar_feed_digest);

-- A pending verification link: single-use (deleted when used), expiring.
CREATE TABLE email_verifications (
    digest     TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- The signing secret must be known to sign, so it is kept (it opens nothing in Patio).
CREATE TABLE webhooks (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Every notification to send, once: dedupe_key makes enqueuing idempotent across instances,
-- claimed_until leases a row to one sender, sent_at or failed_at ends it.
CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel         TEXT NOT NULL CHECK (channel IN ('mail', 'webhook')),
    kind            TEXT NOT NULL,
    dedupe_key      TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    claimed_until   BIGINT,
    sent_at         BIGINT,
    failed_at       BIGINT,
    last_status     TEXT
);

CREATE INDEX outbox_due ON outbox (next_attempt_at) ;
CREATE INDEX outbox_by_user ON outbox (user_id, id);
