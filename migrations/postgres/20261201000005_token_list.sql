-- Tokens as the store reads them: with the issue time of their current secret and the name of
-- whoever revoked them. One definition, read by the owner's list, the inventory and the edit
-- and regenerate paths.
CREATE VIEW token_list AS
SELECT p.id, p.user_id, p.name, p.description, p.hint, p.created_at,
       COALESCE(p.issued_at, p.created_at) AS issued_at, p.expires_at, p.last_used_at,
       p.access, p.allowed_ips, p.revoked_at, p.revoked_by, p.revoked_reason,
       r.username AS revoked_by_username
FROM personal_access_tokens p LEFT JOIN users r ON r.id = p.revoked_by;
