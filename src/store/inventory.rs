use super::Store;
use crate::db::{query, StoreError, StoreResult};
use crate::domain::accounts::UserRef;
use crate::store::tokens::pat_from_row;
use crate::time::to_millis;
use crate::tokens::storage::PatRecord;
use chrono::{DateTime, Utc};

/// Which tokens an administrator's inventory lists (SPEC §14); `None` leaves a filter out.
#[derive(Clone, Debug, Default)]
pub struct InventoryFilter {
    pub user_id: Option<i64>,
    pub status: Option<InventoryStatus>,
    /// Active tokens that expire before this instant.
    pub expires_before: Option<DateTime<Utc>>,
    /// Tokens not used (nor created) since this instant.
    pub unused_since: Option<DateTime<Utc>>,
    /// The tokens after this one in `sort`'s order (the next page).
    pub before_id: Option<i64>,
    pub sort: InventorySort,
    pub limit: i64,
}

/// The inventory's order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InventorySort {
    /// Newest first.
    #[default]
    Newest,
    /// Soonest expiry first.
    Expires,
    /// Least recently used first, never-used ones first of all.
    LastUsed,
}

impl InventorySort {
    pub fn as_str(self) -> &'static str {
        match self {
            InventorySort::Newest => "newest",
            InventorySort::Expires => "expires",
            InventorySort::LastUsed => "last_used",
        }
    }

    pub fn parse(text: &str) -> Option<InventorySort> {
        [
            InventorySort::Newest,
            InventorySort::Expires,
            InventorySort::LastUsed,
        ]
        .into_iter()
        .find(|sort| sort.as_str() == text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InventoryStatus {
    Active,
    Expired,
    Revoked,
}

impl InventoryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InventoryStatus::Active => "active",
            InventoryStatus::Expired => "expired",
            InventoryStatus::Revoked => "revoked",
        }
    }
}

/// A token in the inventory: with its owner and the address it was last used from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryEntry {
    pub token: PatRecord,
    pub owner: UserRef,
    pub last_ip: Option<String>,
}

impl Store {
    /// Every user's tokens that pass `filter`, newest first, at most `filter.limit`.
    pub async fn inventory(
        &self,
        filter: &InventoryFilter,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<InventoryEntry>> {
        // Each filter is a parameter that is either NULL (left out) or applies; the casts
        // give both backends the parameter's type when it is NULL.
        let rows = query(
            "SELECT p.*, o.username AS owner_username, \
               (SELECT a.ip FROM token_addresses a WHERE a.token_id = p.id \
                ORDER BY a.last_seen_at DESC LIMIT 1) AS last_ip \
             FROM token_list p JOIN users o ON o.id = p.user_id \
             WHERE (CAST($1 AS BIGINT) IS NULL OR p.user_id = $1) \
               AND (CAST($2 AS TEXT) IS NULL \
                 OR ($2 = 'active' AND p.revoked_at IS NULL AND p.expires_at > $3) \
                 OR ($2 = 'expired' AND p.revoked_at IS NULL AND p.expires_at <= $3) \
                 OR ($2 = 'revoked' AND p.revoked_at IS NOT NULL)) \
               AND (CAST($4 AS BIGINT) IS NULL \
                 OR (p.revoked_at IS NULL AND p.expires_at > $3 AND p.expires_at <= $4)) \
               AND (CAST($5 AS BIGINT) IS NULL \
                 OR COALESCE(p.last_used_at, p.created_at) <= $5) \
               AND (CAST($6 AS BIGINT) IS NULL OR CASE CAST($8 AS TEXT) \
                 WHEN 'expires' THEN (p.expires_at, p.id) > \
                   (SELECT c.expires_at, c.id FROM personal_access_tokens c WHERE c.id = $6) \
                 WHEN 'last_used' THEN (COALESCE(p.last_used_at, 0), p.id) > \
                   (SELECT COALESCE(c.last_used_at, 0), c.id \
                    FROM personal_access_tokens c WHERE c.id = $6) \
                 ELSE p.id < $6 END) \
             ORDER BY CASE CAST($8 AS TEXT) WHEN 'expires' THEN p.expires_at \
                        WHEN 'last_used' THEN COALESCE(p.last_used_at, 0) END, \
                      CASE WHEN CAST($8 AS TEXT) = 'newest' THEN NULL ELSE p.id END, \
                      p.id DESC \
             LIMIT $7",
        )
        .bind(filter.user_id)
        .bind(filter.status.map(|status| status.as_str()))
        .bind(to_millis(now))
        .bind(filter.expires_before.map(to_millis))
        .bind(filter.unused_since.map(to_millis))
        .bind(filter.before_id)
        .bind(filter.limit)
        .bind(filter.sort.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let token = pat_from_row(row)?;
                Ok(InventoryEntry {
                    owner: UserRef {
                        id: token.user_id,
                        username: row.try_get("owner_username")?,
                    },
                    last_ip: row.try_get("last_ip")?,
                    token,
                })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(StoreError::from)
    }
}
