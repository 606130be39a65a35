//! Admin › Tokens (SPEC §14): every user's tokens, filtered and paged, for administrators.

use crate::db::StoreResult;
use crate::store::{InventoryEntry, InventoryFilter, InventorySort, InventoryStatus, Store};
use crate::tokens::policy::Policy;
use crate::tokens::storage::PatRecord;
use chrono::{DateTime, Duration, Utc};

/// Most tokens on one page.
pub const MAX_PAGE: i64 = 100;

/// The filters as asked for; `None` leaves one out.
#[derive(Clone, Debug, Default)]
pub struct InventoryRequest {
    pub user_id: Option<i64>,
    pub status: Option<InventoryStatus>,
    pub expires_within_days: Option<i64>,
    pub unused_for_days: Option<i64>,
    pub before: Option<i64>,
    pub sort: InventorySort,
    pub limit: Option<i64>,
}

/// One page of the inventory, and where the next begins (`None` on the last page).
pub struct InventoryPage {
    pub entries: Vec<InventoryEntry>,
    pub next: Option<i64>,
    /// The policy now in force, to mark tokens made under a looser one.
    pub policy: Policy,
}

/// Whether a live token lives longer than the policy now allows: the inventory marks it, and
/// offers to revoke it.
pub fn exceeds_policy(token: &PatRecord, policy: &Policy, now: DateTime<Utc>) -> bool {
    token.revoked.is_none()
        && token.expires_at > now
        && policy.exceeded_by(token.issued_at, token.expires_at)
}

pub async fn list(
    store: &Store,
    now: DateTime<Utc>,
    request: &InventoryRequest,
) -> StoreResult<InventoryPage> {
    let limit = request.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let filter = InventoryFilter {
        user_id: request.user_id,
        status: request.status,
        expires_before: request
            .expires_within_days
            .map(|days| now + Duration::days(days.clamp(0, 3650))),
        unused_since: request
            .unused_for_days
            .map(|days| now - Duration::days(days.clamp(0, 36500))),
        before_id: request.before,
        sort: request.sort,
        // One more than asked shows whether there is a next page.
        limit: limit + 1,
    };
    let mut entries = store.inventory(&filter, now).await?;
    let next = (entries.len() as i64 > limit).then(|| {
        entries.truncate(limit as usize);
        entries.last().map(|entry| entry.token.id)
    });
    Ok(InventoryPage {
        entries,
        next: next.flatten(),
        policy: store.policy().await?,
    })
}
