//! Authenticating with a PAT (SPEC §3, §10): the secret's digest names the token, and a token
//! that has expired or been revoked, or whose owner is deactivated, stands for no one. Each use
//! is counted in memory; the token's last use, and an address it was not seen at before, are
//! written at most once a minute, so a busy token costs no write per request.

use crate::db::{StoreError, StoreResult};
use crate::domain::accounts::Account;
use crate::domain::events::Origin;
use crate::tokens::secret;
use crate::tokens::storage::{PatCredential, TokenStore};
use crate::tokens::usage::TokenUse;
use chrono::{DateTime, Duration, Utc};
use std::net::IpAddr;

/// A token's `last_used_at` (and a session's `last_seen_at`) is written at most this often.
pub fn touch_interval() -> Duration {
    Duration::minutes(1)
}

/// The live token whose secret `presented` is, with its owner; `None` for an unknown, expired
/// or revoked token, or a deactivated owner. The caller has already checked the secret's form
/// (`secret::is_well_formed_pat`), so a malformed string never costs a query.
pub async fn find(
    store: &impl TokenStore,
    now: DateTime<Utc>,
    presented: &str,
) -> StoreResult<Option<(PatCredential, Account)>> {
    let found = store.pat(&secret::digest(presented)).await?;
    Ok(found.filter(|(pat, owner)| pat.expires_at > now && owner.active))
}

/// A use of a token just authenticated and allowed.
pub struct Use<'a> {
    pub token_id: i64,
    /// The token's last use as read when the request came in.
    pub last_used_at: Option<DateTime<Utc>>,
    pub origin: &'a Origin,
}

/// Records a use: counted in memory; the last use and a new address written at most once a
/// minute. Bookkeeping only: a database that can be read but no longer written (a full or
/// read-only disk) must not lock everyone out, so a failed write is logged, not returned.
pub async fn record_use(
    store: &impl TokenStore,
    token_use: &TokenUse,
    now: DateTime<Utc>,
    used: Use<'_>,
) {
    let id = used.token_id;
    token_use.count(id, now);
    let unless_used_after = now - touch_interval();
    if used.last_used_at.is_none_or(|at| at <= unless_used_after) {
        log_failed_write(store.touch_pat(id, now, unless_used_after).await);
    }
    let client = used.origin.client;
    if let Some(client) = client.filter(|ip: &IpAddr| token_use.address_due(id, *ip, now)) {
        let recorded = store
            .record_pat_address(id, &client.to_string(), now, used.origin)
            .await;
        log_failed_write(recorded);
    }
}

/// Logs a failed bookkeeping write (a use, a refusal, a session touch) without failing the
/// request it belongs to.
pub fn log_failed_write(result: Result<(), StoreError>) {
    if let Err(error) = result {
        tracing::warn!(%error, "could not record credential use");
    }
}
