-- Wave 2: access levels and allowlists (SPEC §12), regeneration and revocation (§10).

ALTER TABLE personal_access_tokens ADD COLUMN access TEXT NOT NULL DEFAULT 'read_write'
    CHECK (access IN ('read_write', 'read'));
-- Normalised networks (`203.0.113.0/24`), comma-separated; empty means anywhere.
ALTER TABLE personal_access_tokens ADD COLUMN allowed_ips TEXT NOT NULL DEFAULT '';
-- When the current secret was issued: regenerating a token gives it a new one (NULL: at creation).
ALTER TABLE personal_access_tokens ADD COLUMN issued_at BIGINT;
ALTER TABLE personal_access_tokens ADD COLUMN revoked_at BIGINT;
ALTER TABLE personal_access_tokens ADD COLUMN revoked_by BIGINT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE personal_access_tokens ADD COLUMN revoked_reason TEXT
    CHECK (revoked_reason IN ('admin', 'leaked', 'unused', 'deactivated'));


-- Resource servers that may introspect tokens (RFC 7662), registered by an administrator.
CREATE TABLE introspection_clients (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT    NOT NULL,
    client_id     TEXT    NOT NULL UNIQUE,
    secret_digest TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);
