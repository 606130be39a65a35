//! A token in use: found by its secret's digest, its last use, and the addresses it was used
//! from (SPEC §3, §10).

use super::events::{insert_event, token_event};
use super::tokens::{access_from_row, last_used_from_row};
use super::users::account_from_row;
use super::Store;
use crate::db::{query, StoreResult};
use crate::domain::accounts::Account;
use crate::domain::events::{EventKind, Origin};
use crate::time::{from_millis, to_millis};
use crate::tokens::allowlist::AllowList;
use crate::tokens::storage::{PatCredential, MAX_ADDRESSES};
use chrono::{DateTime, Utc};

impl Store {
    /// Records a token's use from `ip` at `at`, keeping its `MAX_ADDRESSES` most recent
    /// addresses; an address it was not known at is logged as a new one.
    pub async fn record_pat_address(
        &self,
        token_id: i64,
        ip: &str,
        at: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        // A token used from an address it does not know yet: its owner hears of it.
        let unknown = query(
            "SELECT p.user_id, p.name FROM personal_access_tokens p WHERE p.id = $1 \
             AND NOT EXISTS (SELECT 1 FROM token_addresses a \
                             WHERE a.token_id = p.id AND a.ip = $2)",
        )
        .bind(token_id)
        .bind(ip)
        .fetch_optional(&mut tx)
        .await?;
        if let Some(row) = unknown {
            let name: String = row.try_get("name")?;
            let event = token_event(
                row.try_get("user_id")?,
                EventKind::TokenUsedFromNewAddress,
                at,
                origin,
                (token_id, &name),
            );
            insert_event(&mut tx, event).await?;
        }
        query(
            "INSERT INTO token_addresses (token_id, ip, last_seen_at) \
             SELECT $1, $2, $3 WHERE EXISTS \
               (SELECT 1 FROM personal_access_tokens WHERE id = $1) \
             ON CONFLICT (token_id, ip) DO UPDATE SET last_seen_at = excluded.last_seen_at",
        )
        .bind(token_id)
        .bind(ip)
        .bind(to_millis(at))
        .execute(&mut tx)
        .await?;
        query(
            "DELETE FROM token_addresses WHERE token_id = $1 AND ip NOT IN \
               (SELECT ip FROM token_addresses WHERE token_id = $1 \
                ORDER BY last_seen_at DESC, ip LIMIT $2)",
        )
        .bind(token_id)
        .bind(MAX_ADDRESSES)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn pat(&self, digest: &str) -> StoreResult<Option<(PatCredential, Account)>> {
        let Some(row) = query(
            "SELECT p.id AS pat_id, p.name, COALESCE(p.issued_at, p.created_at) AS issued_at, \
               p.expires_at, p.last_used_at, p.access, p.allowed_ips, \
               u.id, u.username, u.display_name, u.role, u.active, u.email, u.email_verified_at \
             FROM personal_access_tokens p JOIN users u ON u.id = p.user_id \
             WHERE p.digest = $1 AND p.revoked_at IS NULL",
        )
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let pat = PatCredential {
            id: row.try_get("pat_id")?,
            name: row.try_get("name")?,
            issued_at: from_millis(row.try_get("issued_at")?),
            expires_at: from_millis(row.try_get("expires_at")?),
            last_used_at: last_used_from_row(&row)?,
            access: access_from_row(&row)?,
            allowed_ips: AllowList::from_column(row.try_get("allowed_ips")?),
        };
        Ok(Some((pat, account_from_row(&row)?)))
    }

    /// Records use at `now` unless it was already recorded after `unless_used_after`.
    pub async fn touch_pat(
        &self,
        id: i64,
        now: DateTime<Utc>,
        unless_used_after: DateTime<Utc>,
    ) -> StoreResult<()> {
        query(
            "UPDATE personal_access_tokens SET last_used_at = $1 \
             WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)",
        )
        .bind(to_millis(now))
        .bind(id)
        .bind(to_millis(unless_used_after))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
