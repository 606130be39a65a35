//! Leaked-token intake (SPEC §13): secret scanners report strings they found in public places;
//! every one that is a live Patio PAT is revoked as leaked. The intake is no oracle: a
//! well-formed report is answered at once, whatever it holds, and strings that fail the checksum
//! are dropped without any database work. The rest is queued durably before the answer and
//! handled by a background worker: one read for the whole report, writes only for live tokens,
//! one report at a time, retried until done — a flood of junk costs reads and queue rows, never
//! a storm of writes, and no report is lost.

use crate::db::StoreResult;
use crate::domain::events::Origin;
use crate::domain::limiter::{address_key, Limiter};
use crate::store::{QueuedReport, Store};
use crate::time::Clock;
use crate::tokens::rules::RevokedReason;
use crate::tokens::secret;
use crate::tokens::storage::NewRevocation;
use chrono::Duration;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use tokio::sync::Notify;

/// The most credentials one report may hold.
pub const MAX_CREDENTIALS: usize = 1000;
/// Reports accepted per client address (an IPv6 /64) per hour.
pub const MAX_REPORTS_PER_HOUR: usize = 60;
/// Reports accepted from everyone together per minute, by this instance: a budget on the
/// intake's work whatever the number of addresses sending.
pub const MAX_REPORTS_PER_MINUTE: usize = 300;

/// How long a worker holds a report; one it has not finished by then is taken again.
fn lease() -> Duration {
    Duration::seconds(30)
}

/// How often the worker looks for reports left by a failed try, a crash or another instance.
const POLL: std::time::Duration = std::time::Duration::from_secs(10);

/// The digests of the reported strings that are well-formed PATs, each once.
pub fn candidates<'a>(reported: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut digests: Vec<String> = reported
        .into_iter()
        .map(str::trim)
        .filter(|text| secret::is_well_formed_pat(text))
        .map(secret::digest)
        .collect();
    digests.sort_unstable();
    digests.dedup();
    digests
}

/// The intake: its queue in the store and the worker that empties it.
#[derive(Clone)]
pub struct Intake {
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
}

impl Intake {
    pub fn new(store: Arc<Store>, clock: Arc<dyn Clock>, wake: Arc<Notify>) -> Intake {
        Intake { store, clock, wake }
    }

    /// Accepts a report: once this returns, it is stored and will be handled, even if this
    /// instance stops. The owners' logs will name the reporter's address (`origin`).
    pub async fn accept(&self, digests: Vec<String>, origin: &Origin) -> StoreResult<()> {
        if digests.is_empty() {
            return Ok(());
        }
        self.store
            .enqueue_leak_report(&digests, origin, self.clock.now())
            .await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Handles queued reports for as long as the server runs: at once when one arrives, and
    /// every few seconds for those whose handling failed or whose worker died.
    pub async fn run(self) {
        loop {
            if let Err(error) = self.drain().await {
                tracing::warn!(%error, "leaked-token reports could not be handled; tried again shortly");
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Handles every due report, one at a time; how many.
    pub async fn drain(&self) -> StoreResult<usize> {
        let mut handled = 0;
        loop {
            let now = self.clock.now();
            let Some(report) = self.store.claim_leak_report(now, now + lease()).await? else {
                return Ok(handled);
            };
            self.handle(&report).await?;
            self.store.finish_leak_report(report.id).await?;
            handled += 1;
        }
    }

    /// Revokes the live tokens among a report's digests, owner by owner.
    async fn handle(&self, report: &QueuedReport) -> StoreResult<()> {
        let now = self.clock.now();
        let live = self.store.live_pats_by_digest(&report.digests, now).await?;
        let mut by_owner: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for (token_id, user_id) in live {
            by_owner.entry(user_id).or_default().push(token_id);
        }
        let revocation = NewRevocation {
            at: now,
            by: None,
            reason: RevokedReason::Leaked,
        };
        let mut revoked = 0;
        for (user_id, token_ids) in by_owner {
            let done = self
                .store
                .revoke_leaked_pats(user_id, &token_ids, revocation, &report.origin)
                .await?;
            for token in &done {
                tracing::warn!(
                    token_id = token.id,
                    user_id = token.user_id,
                    hint = %token.hint,
                    "token reported as leaked: revoked"
                );
            }
            revoked += done.len();
        }
        tracing::info!(
            report = report.id,
            reported = report.digests.len(),
            revoked,
            "leaked-token report handled"
        );
        Ok(())
    }
}

/// Reports admitted per client address within the last hour, and from everyone within the last
/// minute, in this process. Each intake (the anonymous one, GitLab's) has its own.
#[derive(Clone)]
pub struct ReportLimiter {
    per_address: Limiter<IpAddr>,
    everyone: Limiter<()>,
}

impl Default for ReportLimiter {
    fn default() -> ReportLimiter {
        ReportLimiter {
            per_address: Limiter::new(MAX_REPORTS_PER_HOUR, Duration::hours(1)),
            everyone: Limiter::new(MAX_REPORTS_PER_MINUTE, Duration::minutes(1)),
        }
    }
}

impl ReportLimiter {
    /// Counts a report from `client`; `Err` with the seconds to wait when it is one too many.
    pub fn admit(&self, client: IpAddr, now: chrono::DateTime<chrono::Utc>) -> Result<(), u64> {
        let key = address_key(client);
        self.per_address.check(&key, now)?;
        self.everyone.admit((), now)?;
        self.per_address.record(key, now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_pats_are_candidates() {
        let real = secret::new_pat().into_exposed();
        let broken = format!(
            "{}{}",
            &real[..54],
            if real.ends_with('A') { 'B' } else { 'A' }
        );
        let found = candidates([
            real.as_str(),
            &format!("  {real} "),
            broken.as_str(),
            "patio_short",
            "ghp_0123456789",
            "",
        ]);
        assert_eq!(found, vec![secret::digest(&real)]);
        assert!(candidates(["nothing", broken.as_str()]).is_empty());
    }

    #[test]
    fn sixty_reports_an_hour_per_address() {
        use chrono::Utc;
        let limiter = ReportLimiter::default();
        let now = Utc::now();
        let here: IpAddr = "203.0.113.7".parse().unwrap();
        for n in 0..MAX_REPORTS_PER_HOUR {
            assert!(limiter
                .admit(here, now + Duration::seconds(n as i64))
                .is_ok());
        }
        assert!(limiter.admit(here, now + Duration::minutes(2)).is_err());
        assert!(limiter.admit("203.0.113.8".parse().unwrap(), now).is_ok());
        assert!(limiter.admit(here, now + Duration::minutes(61)).is_ok());
    }

    #[test]
    fn an_ipv6_64_is_one_address_and_everyone_shares_a_budget() {
        use chrono::Utc;
        let limiter = ReportLimiter::default();
        let now = Utc::now();
        for n in 0..MAX_REPORTS_PER_HOUR {
            let address: IpAddr = format!("2001:db8:7:7::{n:x}").parse().unwrap();
            assert!(limiter.admit(address, now).is_ok());
        }
        let same_64: IpAddr = "2001:db8:7:7:ffff::1".parse().unwrap();
        assert!(limiter.admit(same_64, now).is_err());
        // Many addresses together: at most the global budget a minute.
        let mut admitted = 0;
        for n in 0..(2 * MAX_REPORTS_PER_MINUTE) {
            let address: IpAddr = format!("198.51.{}.{}", n / 250, n % 250).parse().unwrap();
            if limiter.admit(address, now).is_ok() {
                admitted += 1;
            }
        }
        assert_eq!(admitted, MAX_REPORTS_PER_MINUTE - MAX_REPORTS_PER_HOUR);
        assert!(limiter
            .admit("192.0.2.1".parse().unwrap(), now + Duration::seconds(61))
            .is_ok());
    }
}
