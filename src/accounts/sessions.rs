//! Browser sessions (SPEC §1): a 256-bit random id in the `patio_session` cookie, stored only
//! as its SHA-256 digest; 12 hours idle and 7 days absolute lifetime.

use crate::db::StoreResult;
use crate::domain::events::Origin;
use crate::store::Store;
use crate::tokens::secret;
use chrono::{DateTime, Duration, Utc};
use http::header::{HeaderMap, COOKIE};
use http::HeaderValue;

pub const COOKIE_NAME: &str = "patio_session";

pub fn idle_timeout() -> Duration {
    Duration::hours(12)
}

pub fn absolute_lifetime() -> Duration {
    Duration::days(7)
}

/// Whether a session created and last seen at these instants is still valid at `now`.
pub fn is_live(created_at: DateTime<Utc>, last_seen_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now < created_at + absolute_lifetime() && now < last_seen_at + idle_timeout()
}

/// Starts a session for `user_id` and returns the `Set-Cookie` value carrying its id.
/// (`secure`: whether users reach Patio over https, so the cookie is only sent there.)
pub async fn start(
    store: &Store,
    now: DateTime<Utc>,
    secure: bool,
    user_id: i64,
    origin: &Origin,
) -> StoreResult<HeaderValue> {
    let id = secret::new_session_id();
    store
        .create_session(&id.digest(), user_id, now, origin)
        .await?;
    Ok(cookie(
        id.expose(),
        absolute_lifetime().num_seconds(),
        secure,
    ))
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clearing_cookie(secure: bool) -> HeaderValue {
    cookie("", 0, secure)
}

fn cookie(value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}"
    ))
    .expect("session ids are base62")
}

/// The session id the browser sent, if any.
pub fn id_from(headers: &HeaderMap) -> Option<&str> {
    cookie_value(headers, COOKIE_NAME)
}

/// The non-empty value of the cookie `name` the browser sent, if any.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, value)| *found == name && !value.is_empty())
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_carry_the_required_flags() {
        let plain = cookie("abc", 60, false);
        assert_eq!(
            plain.to_str().unwrap(),
            "patio_session=abc; HttpOnly; SameSite=Lax; Path=/; Max-Age=60"
        );
        assert!(cookie("abc", 60, true)
            .to_str()
            .unwrap()
            .ends_with("; Secure"));
        assert!(clearing_cookie(false)
            .to_str()
            .unwrap()
            .contains("Max-Age=0"));
    }

    #[test]
    fn the_session_id_is_found_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("theme=dark; patio_session=xyz"),
        );
        assert_eq!(id_from(&headers), Some("xyz"));
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("patio_session=; other=1"));
        assert_eq!(id_from(&headers), None);
        assert_eq!(id_from(&HeaderMap::new()), None);
    }

    #[test]
    fn sessions_end_after_12_idle_hours_or_7_days() {
        let t0 = Utc::now();
        assert!(is_live(t0, t0, t0 + Duration::hours(11)));
        assert!(!is_live(t0, t0, t0 + Duration::hours(12)));
        let busy = t0 + Duration::days(7) - Duration::minutes(1);
        assert!(is_live(t0, busy, busy));
        assert!(!is_live(t0, busy, t0 + Duration::days(7)));
    }
}
