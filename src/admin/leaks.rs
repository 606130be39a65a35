//! Leaked-token intake (SPEC §13): secret scanners report strings they found in public places;
//! every one that is a live Patio PAT is revoked as leaked. The intake is no oracle: a
//! well-formed report is accepted at once, whatever it holds, and the revocations happen after
//! the answer; strings that fail the checksum are dropped without any database work.

use crate::domain::events::Origin;
use crate::store::Store;
use crate::tokens::rules::RevokedReason;
use crate::tokens::secret;
use crate::tokens::storage::NewRevocation;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The most credentials one report may hold.
pub const MAX_CREDENTIALS: usize = 1000;
/// Reports accepted per client address per hour.
pub const MAX_REPORTS_PER_HOUR: usize = 60;

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

/// Accepts a report: revokes the live PATs among `digests` as leaked, after the caller has its
/// answer, so the time to answer says nothing about what the report held. The owners' logs name
/// the reporter's address (`origin`).
pub fn accept(store: Arc<Store>, now: DateTime<Utc>, digests: Vec<String>, origin: Origin) {
    if digests.is_empty() {
        return;
    }
    tokio::spawn(async move {
        let revocation = NewRevocation {
            at: now,
            by: None,
            reason: RevokedReason::Leaked,
        };
        match store
            .revoke_leaked_pats(&digests, revocation, &origin)
            .await
        {
            Ok(revoked) => {
                for token in &revoked {
                    tracing::warn!(
                        token_id = token.id,
                        user_id = token.user_id,
                        hint = %token.hint,
                        "token reported as leaked: revoked"
                    );
                }
                tracing::info!(
                    reported = digests.len(),
                    revoked = revoked.len(),
                    "leaked-token report handled"
                );
            }
            Err(error) => tracing::error!(%error, "leaked-token report could not be handled"),
        }
    });
}

/// Reports per client address within the last hour, in this process.
#[derive(Clone, Default)]
pub struct ReportLimiter(Arc<Mutex<HashMap<IpAddr, Vec<DateTime<Utc>>>>>);

impl ReportLimiter {
    /// Counts a report from `client`; `Err` with the seconds to wait when it is one too many.
    pub fn admit(&self, client: IpAddr, now: DateTime<Utc>) -> Result<(), u64> {
        let hour = Duration::hours(1);
        let mut reports = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if reports.len() > 10_000 {
            reports.retain(|_, times| times.last().is_some_and(|at| *at > now - hour));
        }
        let times = reports.entry(client).or_default();
        times.retain(|at| *at > now - hour);
        if times.len() >= MAX_REPORTS_PER_HOUR {
            let wait = (times[0] + hour - now).num_seconds().max(1);
            return Err(wait as u64);
        }
        times.push(now);
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
}
