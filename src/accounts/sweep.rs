//! Housekeeping (SPEC §14): sessions past their lifetimes, expired access tokens, sign-in
//! failures older than the brute-force window and security events past their retention are of
//! no further use; a sweep deletes them at start and then every hour, and logs the tokens that
//! expired meanwhile (SPEC §10). Personal access tokens are never swept: they stay listed until
//! their owner deletes them.

use crate::accounts::service::failure_window;
use crate::accounts::sessions::{absolute_lifetime, idle_timeout};
use crate::db::StoreResult;
use crate::store::{StaleBefore, Store};
use crate::time::Clock;
use chrono::Duration;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// How often the sweep runs after the first one, at start.
pub const INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

/// Deletes every stale row once.
pub async fn run_once(store: &Store, now: DateTime<Utc>) -> StoreResult<()> {
    store
        .delete_stale(StaleBefore {
            session_created: now - absolute_lifetime(),
            session_seen: now - idle_timeout(),
            access_token_expired: now,
            login_failure: now - failure_window(),
            security_event: now - crate::events::service::retention(),
        })
        .await?;
    let expired = store.log_expired_pats(now).await?;
    // The policy's unused-token rule (SPEC §14): each such token is claimed, revoked and
    // logged once, whichever instance sweeps first.
    let mut unused = 0;
    if let Some(days) = store.policy().await?.revoke_unused_after_days {
        unused = store
            .revoke_unused_pats(now - Duration::days(days), now)
            .await?;
    }
    tracing::debug!(
        expired,
        unused,
        "stale rows purged, expired and unused tokens handled"
    );
    Ok(())
}

/// Sweeps now and then every `INTERVAL`, for as long as the server runs. A failed sweep (the
/// database away) is logged and tried again at the next interval.
pub async fn every_hour(store: Arc<Store>, clock: Arc<dyn Clock>) {
    let mut ticks = tokio::time::interval(INTERVAL);
    loop {
        ticks.tick().await;
        if let Err(error) = run_once(&store, clock.now()).await {
            tracing::warn!(%error, "the housekeeping sweep failed; it runs again in an hour");
        }
    }
}
