-- The notification sender looks for tokens whose expiry is near or has passed every minute
-- (SPEC §11): with these partial indexes it reads only those tokens, never the whole table
-- (with a million tokens, scanning it every minute would also map the whole file into memory).

CREATE INDEX personal_access_tokens_live_expiry ON personal_access_tokens (expires_at)
WHERE revoked_at IS NULL;

CREATE INDEX personal_access_tokens_expiry_unlogged ON personal_access_tokens (expires_at)
WHERE revoked_at IS NULL AND NOT expiry_logged;
