//! Admin › Overview (SPEC §14): the instance at a glance — counts, and authenticated requests
//! per day for 30 days by credential kind — with no HTTP in it.

use crate::db::StoreResult;
use crate::store::{OverviewQuery, Store};
use crate::tokens::usage::TokenUse;
use crate::tokens::usage::{day_number, last_days, USAGE_DAYS};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

/// The credential kinds the chart shows, as counted and as named.
pub const KINDS: [(&str, &str); 3] = [
    ("pat", "Personal access tokens"),
    ("access_token", "Access tokens"),
    ("session", "Browser sessions"),
];

pub struct Figures {
    pub users: i64,
    pub active_tokens: i64,
    pub expiring_soon: i64,
    pub unused: i64,
    pub revoked_this_month: i64,
    /// Per kind of `KINDS`, its requests on each of the last 30 days, oldest first.
    pub requests: Vec<Vec<(NaiveDate, i64)>>,
}

/// (`token_use`: this instance's counts of the last minute, not yet in the store.)
pub async fn figures(
    store: &Store,
    token_use: &TokenUse,
    now: DateTime<Utc>,
) -> StoreResult<Figures> {
    let month_start = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    let overview = store
        .overview(OverviewQuery {
            now,
            expiring_before: now + Duration::days(7),
            unused_since: now - Duration::days(30),
            month_start,
            since_day: day_number(now) - USAGE_DAYS,
        })
        .await?;
    // What the store holds, and this instance's counts of the last minute, not yet flushed.
    let pending = token_use.pending_kinds();
    let requests = KINDS
        .iter()
        .map(|(kind, _)| {
            let stored = overview
                .requests
                .iter()
                .filter(|(_, counted, _)| counted == kind)
                .map(|(day, _, requests)| (*day, *requests));
            let unflushed = pending
                .iter()
                .filter(|count| count.kind == *kind)
                .map(|count| (count.day, count.requests));
            let counts: Vec<(i64, i64)> = stored.chain(unflushed).collect();
            last_days(&counts, now)
        })
        .collect();
    Ok(Figures {
        users: overview.users,
        active_tokens: overview.active_tokens,
        expiring_soon: overview.expiring_soon,
        unused: overview.unused,
        revoked_this_month: overview.revoked_this_month,
        requests,
    })
}
