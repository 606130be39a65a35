//! Personal access token rules (SPEC §3) that need no I/O: field validation, expiration,
//! status. The store enforces the limit and name uniqueness atomically; see `service`.

use crate::domain::problem::{Answer, Kind, Problem};
use chrono::{DateTime, Days, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// How many active tokens one user may hold.
pub const MAX_ACTIVE_TOKENS: usize = 5;
/// The furthest an expiration may lie after creation.
pub const MAX_LIFETIME_DAYS: i64 = 365;
/// The preset lifetimes offered by the page.
pub const PRESET_DAYS: [i64; 5] = [7, 30, 60, 90, 365];
/// Under this much time left, a token is shown as "Expiring soon".
pub const EXPIRING_SOON_DAYS: i64 = 7;

/// Why a token could not be generated. Each variant is something the user can fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum TokenError {
    #[error("{0}")]
    InvalidName(String),
    #[error("{0}")]
    InvalidDescription(String),
    #[error("{0}")]
    InvalidExpiration(String),
    #[error("You already have an active token named ‘{0}’. Choose another name.")]
    DuplicateName(String),
    /// The limit, §3's or the policy's (§14), is reached.
    #[error("{}", limit_message(*.0))]
    LimitReached(usize),
    /// The policy lets only administrators create tokens (§14).
    #[error("Only administrators may create or regenerate tokens on this instance.")]
    CreationRestricted,
    #[error("{0}")]
    InvalidAllowlist(String),
    #[error("Choose the access “read_write” (read and write) or “read” (read only).")]
    InvalidAccess,
    /// A token revoked as leaked or by an administrator stays revoked (SPEC §10).
    #[error("This token was revoked {}; it cannot be regenerated. Generate a new token instead.", .0.describe())]
    NotRegenerable(RevokedReason),
}

impl Problem for TokenError {
    fn answer(&self) -> Answer {
        let answer = |kind, code| Answer::new(kind, code, self.to_string());
        match self {
            TokenError::InvalidName(_) => answer(Kind::Unprocessable, "invalid_name").at("name"),
            TokenError::DuplicateName(_) => {
                answer(Kind::Unprocessable, "duplicate_name").at("name")
            }
            TokenError::InvalidDescription(_) => {
                answer(Kind::Invalid, "invalid_request").at("description")
            }
            TokenError::InvalidExpiration(_) => {
                answer(Kind::Unprocessable, "invalid_expiration").at("expiration")
            }
            TokenError::InvalidAllowlist(_) => {
                answer(Kind::Unprocessable, "invalid_request").at("allowed_ips")
            }
            TokenError::InvalidAccess => answer(Kind::Invalid, "invalid_request").at("access"),
            TokenError::LimitReached(_) => answer(Kind::Conflict, "token_limit_reached"),
            TokenError::CreationRestricted => answer(Kind::Forbidden, "forbidden"),
            TokenError::NotRegenerable(_) => answer(Kind::Unprocessable, "invalid_request"),
        }
    }
}

/// A token name: trimmed, 1–100 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    pub const MAX: usize = 100;

    pub fn parse(text: &str) -> Result<TokenName, TokenError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(TokenError::InvalidName("Enter a token name.".into()));
        }
        if text.chars().count() > Self::MAX {
            return Err(TokenError::InvalidName(format!(
                "A token name must be at most {} characters.",
                Self::MAX
            )));
        }
        if text.chars().any(char::is_control) {
            return Err(TokenError::InvalidName(
                "A token name cannot contain control characters.".into(),
            ));
        }
        Ok(TokenName(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive form under which a user's active names are unique.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// An optional description: trimmed, at most 500 characters; line breaks and tabs allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenDescription(String);

impl TokenDescription {
    pub const MAX: usize = 500;

    pub fn parse(text: &str) -> Result<TokenDescription, TokenError> {
        let text = text.trim();
        if text.chars().count() > Self::MAX {
            return Err(TokenError::InvalidDescription(format!(
                "A description must be at most {} characters.",
                Self::MAX
            )));
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
        {
            return Err(TokenError::InvalidDescription(
                "A description cannot contain control characters.".into(),
            ));
        }
        Ok(TokenDescription(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the user asked for as an expiration, before it is checked against "now".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpirationRequest {
    /// A whole number of days from now (the presets, and `expires_in_days` in the API).
    InDays(i64),
    /// The end of this day, UTC (the custom date of the page).
    EndOfDay(NaiveDate),
    /// An exact instant (`expires_at` in the API).
    At(DateTime<Utc>),
}

impl ExpirationRequest {
    /// The expiration instant, if it is after `now` and at most 365 days after it.
    pub fn resolve(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, TokenError> {
        self.resolve_within(now, MAX_LIFETIME_DAYS)
    }

    /// The expiration instant, if it is after `now` and at most `max_days` (1–365, a policy's
    /// maximum lifetime) after it.
    pub fn resolve_within(
        &self,
        now: DateTime<Utc>,
        max_days: i64,
    ) -> Result<DateTime<Utc>, TokenError> {
        let max_days = max_days.clamp(1, MAX_LIFETIME_DAYS);
        let at = match *self {
            ExpirationRequest::InDays(days) => {
                if !(1..=MAX_LIFETIME_DAYS).contains(&days) {
                    return Err(TokenError::InvalidExpiration(format!(
                        "Choose between 1 and {max_days} days."
                    )));
                }
                now + Duration::days(days)
            }
            ExpirationRequest::EndOfDay(date) => {
                end_of_day(date).ok_or_else(|| too_far(max_days))?
            }
            ExpirationRequest::At(at) => at,
        };
        if at <= now {
            return Err(TokenError::InvalidExpiration(
                "The expiration must be in the future.".into(),
            ));
        }
        if at > now + Duration::days(max_days) {
            return Err(too_far(max_days));
        }
        Ok(at)
    }
}

fn too_far(max_days: i64) -> TokenError {
    TokenError::InvalidExpiration(if max_days == MAX_LIFETIME_DAYS {
        "A token can be valid for at most one year (365 days).".into()
    } else {
        format!("This instance's policy allows tokens valid for at most {max_days} days.")
    })
}

/// The sentence for a user at the limit of `n` active tokens.
pub fn limit_message(n: usize) -> String {
    let tokens = if n == 1 { "token" } else { "tokens" };
    format!("You have {n} active {tokens}, the maximum. Delete one to generate another.")
}

/// The last second of `date` in UTC.
pub fn end_of_day(date: NaiveDate) -> Option<DateTime<Utc>> {
    Some(date.and_hms_opt(23, 59, 59)?.and_utc())
}

/// A calendar date written `YYYY-MM-DD`, as a date input submits it. Parsed by hand: chrono's
/// format-string parser would add its weight to the browser bundle, which needs only this.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let mut parts = text.trim().split('-');
    let mut number = |digits: usize| -> Option<u32> {
        let part = parts.next()?;
        let valid = part.len() == digits && part.bytes().all(|b| b.is_ascii_digit());
        valid.then(|| part.parse().ok())?
    };
    let (year, month, day) = (number(4)?, number(2)?, number(2)?);
    if parts.next().is_some() {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// The latest custom date the page can offer on `today` (UTC): its end of day must stay within
/// 365 days of now.
pub fn latest_custom_date(now: DateTime<Utc>, max_days: i64) -> NaiveDate {
    let limit = now + Duration::days(max_days);
    let date = limit.date_naive();
    match end_of_day(date) {
        Some(end) if end <= limit => date,
        _ => date.checked_sub_days(Days::new(1)).unwrap_or(date),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    Active,
    ExpiringSoon,
    Expired,
    Revoked,
}

impl TokenStatus {
    pub fn of(expires_at: DateTime<Utc>, revoked: bool, now: DateTime<Utc>) -> TokenStatus {
        if revoked {
            TokenStatus::Revoked
        } else if expires_at <= now {
            TokenStatus::Expired
        } else if expires_at - now < Duration::days(EXPIRING_SOON_DAYS) {
            TokenStatus::ExpiringSoon
        } else {
            TokenStatus::Active
        }
    }

    pub fn is_active(self) -> bool {
        matches!(self, TokenStatus::Active | TokenStatus::ExpiringSoon)
    }

    pub fn label(self) -> &'static str {
        match self {
            TokenStatus::Active => "Active",
            TokenStatus::ExpiringSoon => "Expiring soon",
            TokenStatus::Expired => "Expired",
            TokenStatus::Revoked => "Revoked",
        }
    }
}

/// What a token may do (SPEC §12): everything its owner may, or only read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    #[default]
    ReadWrite,
    Read,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::ReadWrite => "read_write",
            Access::Read => "read",
        }
    }

    pub fn parse(text: &str) -> Result<Access, TokenError> {
        match text.trim() {
            "read_write" | "" => Ok(Access::ReadWrite),
            "read" => Ok(Access::Read),
            _ => Err(TokenError::InvalidAccess),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Access::ReadWrite => "Read and write",
            Access::Read => "Read only",
        }
    }

    /// Whether a request with this HTTP method is within the access: a read-only token may
    /// only `GET`, `HEAD` and `OPTIONS`.
    pub fn permits(self, method: &str) -> bool {
        match self {
            Access::ReadWrite => true,
            Access::Read => ["GET", "HEAD", "OPTIONS"]
                .iter()
                .any(|safe| method.eq_ignore_ascii_case(safe)),
        }
    }
}

/// Why a token was revoked (SPEC §10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokedReason {
    /// By an administrator.
    Admin,
    /// Reported as leaked (§13).
    Leaked,
    /// Unused for longer than the policy allows (§14).
    Unused,
    /// With its owner's deactivation.
    Deactivated,
}

impl RevokedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RevokedReason::Admin => "admin",
            RevokedReason::Leaked => "leaked",
            RevokedReason::Unused => "unused",
            RevokedReason::Deactivated => "deactivated",
        }
    }

    pub fn parse(text: &str) -> Option<RevokedReason> {
        [
            RevokedReason::Admin,
            RevokedReason::Leaked,
            RevokedReason::Unused,
            RevokedReason::Deactivated,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == text)
    }

    /// Whether a token revoked for this reason may get a new secret: only one the unused-token
    /// policy revoked; one that leaked or that an administrator ended may not.
    pub fn allows_regeneration(self) -> bool {
        self == RevokedReason::Unused
    }

    /// Completes "Revoked …" for the owner.
    pub fn describe(self) -> &'static str {
        match self {
            RevokedReason::Admin => "by an administrator",
            RevokedReason::Leaked => "because it was reported as leaked",
            RevokedReason::Unused => "because it went unused",
            RevokedReason::Deactivated => "when the account was deactivated",
        }
    }
}

/// A regenerated token's expiration when none is asked for: the lifetime its last secret had,
/// from now, between one day and §3's year.
pub fn renewed_expiry(
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
    max_days: i64,
) -> DateTime<Utc> {
    let lifetime = (expires_at - issued_at).clamp(Duration::days(1), Duration::days(max_days));
    now + lifetime
}

/// At most this many addresses or networks in a token's allowlist.
pub const MAX_ALLOWED_IPS: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
    }

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert!(matches!(
            TokenName::parse(""),
            Err(TokenError::InvalidName(_))
        ));
        assert!(matches!(
            TokenName::parse("  \t "),
            Err(TokenError::InvalidName(_))
        ));
        assert_eq!(TokenName::parse("  ci  ").unwrap().as_str(), "ci");
        assert!(TokenName::parse(&"名".repeat(100)).is_ok());
        assert!(TokenName::parse(&"名".repeat(101)).is_err());
        assert!(TokenName::parse("a\u{0}b").is_err());
        assert!(TokenName::parse("a\nb").is_err());
        assert!(TokenName::parse("<script>alert(1)</script>").is_ok());
        assert!(TokenName::parse("مرحبا 🎉").is_ok());
        assert_eq!(TokenName::parse("Deploy KEY").unwrap().key(), "deploy key");
    }

    #[test]
    fn descriptions_are_optional_and_bounded() {
        assert_eq!(TokenDescription::parse("").unwrap().as_str(), "");
        assert!(TokenDescription::parse(&"d".repeat(500)).is_ok());
        assert!(TokenDescription::parse(&"d".repeat(501)).is_err());
        assert!(TokenDescription::parse("line one\nline two").is_ok());
        assert!(TokenDescription::parse("bell\u{7}").is_err());
    }

    #[test]
    fn presets_and_day_counts() {
        for days in PRESET_DAYS {
            let at = ExpirationRequest::InDays(days).resolve(now()).unwrap();
            assert_eq!(at, now() + Duration::days(days));
        }
        assert!(ExpirationRequest::InDays(0).resolve(now()).is_err());
        assert!(ExpirationRequest::InDays(366).resolve(now()).is_err());
        assert!(ExpirationRequest::InDays(-5).resolve(now()).is_err());
        assert!(ExpirationRequest::InDays(i64::MAX).resolve(now()).is_err());
    }

    #[test]
    fn exact_instants_must_be_future_and_within_a_year() {
        let resolve = |at| ExpirationRequest::At(at).resolve(now());
        assert!(resolve(now()).is_err());
        assert!(resolve(now() - Duration::days(3000)).is_err());
        assert_eq!(
            resolve(now() + Duration::days(365)),
            Ok(now() + Duration::days(365))
        );
        assert!(resolve(now() + Duration::days(365) + Duration::seconds(1)).is_err());
        assert!(resolve(DateTime::<Utc>::MAX_UTC).is_err());
    }

    #[test]
    fn custom_dates_end_at_the_end_of_the_day_utc() {
        let date = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let at = ExpirationRequest::EndOfDay(date).resolve(now()).unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2026, 12, 1, 23, 59, 59).unwrap());
        // Today still works: the end of today is in the future.
        assert!(ExpirationRequest::EndOfDay(now().date_naive())
            .resolve(now())
            .is_ok());
        let yesterday = now().date_naive().pred_opt().unwrap();
        assert!(ExpirationRequest::EndOfDay(yesterday)
            .resolve(now())
            .is_err());
        // Leap day, and the last date the page offers.
        let leap = NaiveDate::from_ymd_opt(2027, 2, 28).unwrap();
        assert!(ExpirationRequest::EndOfDay(leap).resolve(now()).is_ok());
        let latest = latest_custom_date(now(), MAX_LIFETIME_DAYS);
        assert!(ExpirationRequest::EndOfDay(latest).resolve(now()).is_ok());
        let past_latest = latest.succ_opt().unwrap();
        assert!(ExpirationRequest::EndOfDay(past_latest)
            .resolve(now())
            .is_err());
    }

    #[test]
    fn dates_are_read_as_a_date_input_writes_them() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(parse_date("2027-02-28"), date(2027, 2, 28));
        assert_eq!(parse_date(" 2028-02-29 "), date(2028, 2, 29));
        for wrong in [
            "2027-02-29",
            "2027-2-28",
            "27-02-28",
            "2027-02-28-01",
            "2027-13-01",
            "2027-+2-01",
            "tomorrow",
            "",
        ] {
            assert_eq!(parse_date(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn status_follows_the_time_left() {
        assert_eq!(
            TokenStatus::of(now() + Duration::days(8), false, now()),
            TokenStatus::Active
        );
        assert_eq!(
            TokenStatus::of(now() + Duration::days(6), false, now()),
            TokenStatus::ExpiringSoon
        );
        assert_eq!(TokenStatus::of(now(), false, now()), TokenStatus::Expired);
        assert_eq!(
            TokenStatus::of(now() + Duration::days(8), true, now()),
            TokenStatus::Revoked
        );
        assert!(TokenStatus::ExpiringSoon.is_active());
        assert!(!TokenStatus::Expired.is_active());
        assert!(!TokenStatus::Revoked.is_active());
    }

    #[test]
    fn a_renewed_token_keeps_its_lifetime_within_bounds() {
        let issued = now() - Duration::days(100);
        assert_eq!(
            renewed_expiry(issued, issued + Duration::days(30), now(), 365),
            now() + Duration::days(30)
        );
        assert_eq!(
            renewed_expiry(issued, issued + Duration::hours(2), now(), 365),
            now() + Duration::days(1)
        );
        assert_eq!(
            renewed_expiry(issued, issued + Duration::days(900), now(), 365),
            now() + Duration::days(365)
        );
        // A policy's shorter maximum caps it too.
        assert_eq!(
            renewed_expiry(issued, issued + Duration::days(90), now(), 30),
            now() + Duration::days(30)
        );
        assert!(ExpirationRequest::InDays(31)
            .resolve_within(now(), 30)
            .is_err());
        assert!(ExpirationRequest::InDays(30)
            .resolve_within(now(), 30)
            .is_ok());
        assert!(RevokedReason::Unused.allows_regeneration());
        for reason in [
            RevokedReason::Admin,
            RevokedReason::Leaked,
            RevokedReason::Deactivated,
        ] {
            assert!(!reason.allows_regeneration());
        }
    }

    #[test]
    fn read_only_tokens_may_only_read() {
        for method in ["GET", "head", "OPTIONS"] {
            assert!(Access::Read.permits(method), "{method}");
        }
        for method in ["POST", "PUT", "PATCH", "DELETE", "PROPFIND", ""] {
            assert!(!Access::Read.permits(method), "{method}");
            assert!(Access::ReadWrite.permits(method), "{method}");
        }
        assert_eq!(Access::parse("read"), Ok(Access::Read));
        assert_eq!(Access::parse(""), Ok(Access::ReadWrite));
        assert_eq!(Access::parse("admin"), Err(TokenError::InvalidAccess));
    }
}
