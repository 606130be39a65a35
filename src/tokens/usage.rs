//! Where and how much each token is used (SPEC §10), at no write per request: requests are
//! counted per token and UTC day in memory and added to the store at most once a minute (a
//! crash loses at most that minute); a client address is recorded on a token's first use from
//! it, and then at most once a minute, like the last use.

use crate::tokens::storage::{KindCount, TokenStore, UsageCount};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Requests per (token, day) since the last flush.
type Counts = HashMap<(i64, i64), i64>;
/// Requests per (day, credential kind) since the last flush.
type KindCounts = HashMap<(i64, &'static str), i64>;
/// When each (token, address) was last recorded.
type Recorded = HashMap<(i64, IpAddr), DateTime<Utc>>;

/// Requests counted since the last flush, and when each token was last recorded at an address
/// or refused there.
#[derive(Clone, Default)]
pub struct TokenUse {
    counts: Arc<Mutex<Counts>>,
    /// Every authenticated request, by credential kind, for Admin › Overview.
    kinds: Arc<Mutex<KindCounts>>,
    addresses: Throttle,
    refusals: Throttle,
}

/// Lets each (token, address) pair through at most once a minute.
#[derive(Clone, Default)]
struct Throttle(Arc<Mutex<Recorded>>);

impl Throttle {
    fn due(&self, token_id: i64, client: IpAddr, now: DateTime<Utc>) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(last) = seen.get(&(token_id, client)) {
            if now - *last < Duration::minutes(1) {
                return false;
            }
        }
        if seen.len() >= MAX_REMEMBERED_ADDRESSES {
            seen.retain(|_, last| now - *last < Duration::minutes(1));
        }
        seen.insert((token_id, client), now);
        true
    }
}

/// Addresses remembered per instance: beyond this, entries older than the minute go first.
const MAX_REMEMBERED_ADDRESSES: usize = 100_000;

/// How often the counts are added to the store.
pub const FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// The UTC day of `at`, as days since the Unix epoch.
pub fn day_number(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(86_400)
}

impl TokenUse {
    /// Counts one authenticated request of the token.
    pub fn count(&self, token_id: i64, at: DateTime<Utc>) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *counts.entry((token_id, day_number(at))).or_default() += 1;
    }

    /// Whether the token's use from `client` should be recorded now: the first time this
    /// instance sees the pair, or a minute after it last recorded it.
    pub fn address_due(&self, token_id: i64, client: IpAddr, now: DateTime<Utc>) -> bool {
        self.addresses.due(token_id, client, now)
    }

    /// Whether a refusal of the token's use from `client` should be logged now: at most once a
    /// minute per pair, so a flood of refused requests does not become a flood of writes.
    pub fn refusal_due(&self, token_id: i64, client: IpAddr, now: DateTime<Utc>) -> bool {
        self.refusals.due(token_id, client, now)
    }

    /// Counts one authenticated request by its credential kind (`pat`, `session`,
    /// `access_token`).
    pub fn count_kind(&self, kind: &'static str, at: DateTime<Utc>) {
        let mut kinds = self.kinds.lock().unwrap_or_else(|e| e.into_inner());
        *kinds.entry((day_number(at), kind)).or_default() += 1;
    }

    /// Adds the counts gathered so far to the store. On failure they are kept for the next try.
    pub async fn flush(&self, store: &impl TokenStore) {
        self.flush_kinds(store).await;
        let taken: Vec<UsageCount> = {
            let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            counts
                .drain()
                .map(|((token_id, day), requests)| UsageCount {
                    token_id,
                    day,
                    requests,
                })
                .collect()
        };
        if taken.is_empty() {
            return;
        }
        if let Err(error) = store.add_pat_usage(&taken).await {
            tracing::warn!(%error, "token usage could not be saved; it is kept for the next minute");
            let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            for count in taken {
                *counts.entry((count.token_id, count.day)).or_default() += count.requests;
            }
        }
    }

    /// This instance's requests per (day, kind) not yet flushed, so a page can show the counts
    /// up to now.
    pub fn pending_kinds(&self) -> Vec<KindCount> {
        let kinds = self.kinds.lock().unwrap_or_else(|e| e.into_inner());
        kinds
            .iter()
            .map(|((day, kind), requests)| KindCount {
                day: *day,
                kind,
                requests: *requests,
            })
            .collect()
    }

    async fn flush_kinds(&self, store: &impl TokenStore) {
        let taken: Vec<KindCount> = {
            let mut kinds = self.kinds.lock().unwrap_or_else(|e| e.into_inner());
            kinds
                .drain()
                .map(|((day, kind), requests)| KindCount {
                    day,
                    kind,
                    requests,
                })
                .collect()
        };
        if taken.is_empty() {
            return;
        }
        if let Err(error) = store.add_request_counts(&taken).await {
            tracing::warn!(%error, "request counts could not be saved; kept for the next minute");
            let mut kinds = self.kinds.lock().unwrap_or_else(|e| e.into_inner());
            for count in taken {
                *kinds.entry((count.day, count.kind)).or_default() += count.requests;
            }
        }
    }

    /// Flushes every `FLUSH_INTERVAL` for as long as the server runs.
    pub async fn flush_every_minute(self, store: Arc<impl TokenStore + 'static>) {
        let mut ticks = tokio::time::interval(FLUSH_INTERVAL);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            self.flush(store.as_ref()).await;
        }
    }
}

/// Days shown of a token's use.
pub const USAGE_DAYS: i64 = 30;

/// The requests of each of the last `USAGE_DAYS` UTC days up to `now`'s, oldest first, days
/// without use included as 0: each as its date and count.
pub fn last_days(usage: &[(i64, i64)], now: DateTime<Utc>) -> Vec<(chrono::NaiveDate, i64)> {
    let today = day_number(now);
    (today - USAGE_DAYS + 1..=today)
        .map(|day| {
            let requests = usage
                .iter()
                .filter(|(counted, _)| *counted == day)
                .map(|(_, requests)| requests)
                .sum();
            let date = (DateTime::<Utc>::UNIX_EPOCH + Duration::days(day)).date_naive();
            (date, requests)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_days_since_the_epoch() {
        let at = DateTime::parse_from_rfc3339("2026-11-30T23:59:59Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(day_number(at), 20_787);
        assert_eq!(day_number(at + Duration::seconds(1)), 20_788);
        assert_eq!(
            day_number(DateTime::<Utc>::UNIX_EPOCH - Duration::seconds(1)),
            -1
        );
    }

    #[test]
    fn the_last_thirty_days_are_listed_with_zeros() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let today = day_number(now);
        let counts = [(today, 7), (today - 29, 2), (today - 30, 99)];
        let days = last_days(&counts, now);
        assert_eq!(days.len(), 30);
        assert_eq!(
            days[0],
            (chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(), 2)
        );
        assert_eq!(
            days[29],
            (chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(), 7)
        );
        assert_eq!(days.iter().map(|(_, n)| n).sum::<i64>(), 9);
    }

    #[test]
    fn an_address_is_recorded_first_and_then_once_a_minute() {
        let uses = TokenUse::default();
        let now = Utc::now();
        let here: IpAddr = "203.0.113.7".parse().unwrap();
        assert!(uses.address_due(1, here, now));
        assert!(!uses.address_due(1, here, now + Duration::seconds(30)));
        assert!(uses.address_due(2, here, now + Duration::seconds(30)));
        assert!(uses.address_due(1, "203.0.113.8".parse().unwrap(), now));
        assert!(uses.address_due(1, here, now + Duration::seconds(61)));
    }
}
