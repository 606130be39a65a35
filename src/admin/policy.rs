//! Setting the instance's token policy (SPEC §14) and reading the audit log, with no HTTP in it.

use crate::db::StoreResult;
use crate::domain::events::Origin;
use crate::store::{AuditFilter, AuditRecord, Store};
use crate::tokens::policy::Policy;
use chrono::{DateTime, Utc};

/// Replaces the policy; it applies from the next token generated, and the next sweep.
pub async fn set(
    store: &Store,
    now: DateTime<Utc>,
    policy: Policy,
    origin: &Origin,
) -> StoreResult<Policy> {
    store.set_policy(&policy, now, origin).await?;
    tracing::info!(actor = origin.actor, policy = %policy.summary(), "token policy changed");
    Ok(policy)
}

/// Most audit entries on one page.
pub const MAX_AUDIT_PAGE: i64 = 100;

/// One page of the audit log, newest first, and the `before` of the next.
pub struct AuditPage {
    pub entries: Vec<AuditRecord>,
    pub next: Option<i64>,
}

pub async fn audit(store: &Store, mut filter: AuditFilter) -> StoreResult<AuditPage> {
    let limit = filter.limit.clamp(1, MAX_AUDIT_PAGE);
    filter.limit = limit + 1;
    let mut entries = store.audit(filter).await?;
    let more = entries.len() as i64 > limit;
    entries.truncate(limit as usize);
    let next = more.then(|| entries.last().map(|entry| entry.id)).flatten();
    Ok(AuditPage { entries, next })
}
