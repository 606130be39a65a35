//! Sliding-window limits kept in memory by one instance: at most `max` events per key within
//! `window`. For limits where a few more across several instances do no harm (report intake,
//! test notifications, guesses at a configured secret); sign-in limits, which must hold across
//! instances, are counted in the database instead.

use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Keys kept before those with no event left in the window are dropped, so a flood of new keys
/// cannot grow memory without bound.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Clone)]
pub struct Limiter<K> {
    max: usize,
    window: Duration,
    seen: Arc<Mutex<HashMap<K, VecDeque<DateTime<Utc>>>>>,
}

impl<K: Eq + Hash> Limiter<K> {
    pub fn new(max: usize, window: Duration) -> Limiter<K> {
        Limiter {
            max,
            window,
            seen: Arc::default(),
        }
    }

    /// Counts an event for `key`, unless it would be one too many: then `Err` with the seconds
    /// until one more is allowed.
    pub fn admit(&self, key: K, now: DateTime<Utc>) -> Result<(), u64> {
        self.check(&key, now)?;
        self.record(key, now);
        Ok(())
    }

    /// Whether one more event for `key` is allowed now, without counting one (for limits on
    /// failures, recorded only when the attempt fails).
    pub fn check(&self, key: &K, now: DateTime<Utc>) -> Result<(), u64> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let Some(times) = seen.get_mut(key) else {
            return Ok(());
        };
        while times.front().is_some_and(|at| *at <= now - self.window) {
            times.pop_front();
        }
        match times.front() {
            Some(oldest) if times.len() >= self.max => {
                Err((*oldest + self.window - now).num_seconds().max(1) as u64)
            }
            _ => Ok(()),
        }
    }

    /// Counts an event for `key`.
    pub fn record(&self, key: K, now: DateTime<Utc>) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() > PRUNE_ABOVE {
            let window = self.window;
            seen.retain(|_, times| times.back().is_some_and(|at| *at > now - window));
        }
        let times = seen.entry(key).or_default();
        times.push_back(now);
        // Never more than the limit needs to decide.
        while times.len() > self.max {
            times.pop_front();
        }
    }
}

/// The key a client address is limited under: the address itself for IPv4, its /64 for IPv6
/// (one subscriber's whole allocation: an attacker holding a /64 must not get 2^64 budgets).
pub fn address_key(client: IpAddr) -> IpAddr {
    match client.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1_u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_max_per_window_per_key() {
        let limiter = Limiter::new(3, Duration::minutes(1));
        let now = Utc::now();
        for n in 0..3 {
            assert!(limiter.admit("a", now + Duration::seconds(n)).is_ok());
        }
        assert_eq!(limiter.admit("a", now + Duration::seconds(10)), Err(50));
        assert!(limiter.admit("b", now).is_ok());
        assert!(limiter.admit("a", now + Duration::seconds(61)).is_ok());
    }

    #[test]
    fn failures_count_only_when_recorded() {
        let limiter = Limiter::new(2, Duration::minutes(15));
        let now = Utc::now();
        assert!(limiter.check(&1, now).is_ok());
        limiter.record(1, now);
        limiter.record(1, now);
        assert!(limiter.check(&1, now).is_err());
        assert!(limiter.check(&2, now).is_ok());
    }

    #[test]
    fn a_flood_of_new_keys_stays_bounded() {
        let limiter = Limiter::new(1, Duration::seconds(1));
        let start = Utc::now();
        for n in 0..50_000_u32 {
            limiter.record(n, start + Duration::milliseconds(i64::from(n)));
        }
        assert!(limiter.seen.lock().unwrap().len() <= PRUNE_ABOVE + 1_001);
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(other));
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(address_key(v4), v4);
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        assert_eq!(address_key(mapped), v4);
    }
}
