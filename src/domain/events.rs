//! What the security log records (SPEC §10), with no HTTP in it: the kinds of event, where an
//! action came from, and how a user agent is shortened for people to read.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Every kind of event the security log keeps. The names are the API's and the database's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    SignedIn,
    SignInFailed,
    SignedOut,
    PasswordChanged,
    TokenCreated,
    TokenEdited,
    TokenRegenerated,
    TokenDeleted,
    TokenExpired,
    TokenRevoked,
    TokenUsedFromNewAddress,
    TokenRefused,
    AccountDeactivated,
    AccountReactivated,
    RoleChanged,
}

impl EventKind {
    pub const ALL: [EventKind; 15] = [
        EventKind::SignedIn,
        EventKind::SignInFailed,
        EventKind::SignedOut,
        EventKind::PasswordChanged,
        EventKind::TokenCreated,
        EventKind::TokenEdited,
        EventKind::TokenRegenerated,
        EventKind::TokenDeleted,
        EventKind::TokenExpired,
        EventKind::TokenRevoked,
        EventKind::TokenUsedFromNewAddress,
        EventKind::TokenRefused,
        EventKind::AccountDeactivated,
        EventKind::AccountReactivated,
        EventKind::RoleChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::SignedIn => "signed_in",
            EventKind::SignInFailed => "sign_in_failed",
            EventKind::SignedOut => "signed_out",
            EventKind::PasswordChanged => "password_changed",
            EventKind::TokenCreated => "token_created",
            EventKind::TokenEdited => "token_edited",
            EventKind::TokenRegenerated => "token_regenerated",
            EventKind::TokenDeleted => "token_deleted",
            EventKind::TokenExpired => "token_expired",
            EventKind::TokenRevoked => "token_revoked",
            EventKind::TokenUsedFromNewAddress => "token_used_from_new_address",
            EventKind::TokenRefused => "token_refused",
            EventKind::AccountDeactivated => "account_deactivated",
            EventKind::AccountReactivated => "account_reactivated",
            EventKind::RoleChanged => "role_changed",
        }
    }

    pub fn parse(text: &str) -> Option<EventKind> {
        EventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// A short title for people, as the Security page lists it.
    pub fn title(self) -> &'static str {
        match self {
            EventKind::SignedIn => "Signed in",
            EventKind::SignInFailed => "Sign-in failed",
            EventKind::SignedOut => "Signed out",
            EventKind::PasswordChanged => "Password changed",
            EventKind::TokenCreated => "Token created",
            EventKind::TokenEdited => "Token edited",
            EventKind::TokenRegenerated => "Token regenerated",
            EventKind::TokenDeleted => "Token deleted",
            EventKind::TokenExpired => "Token expired",
            EventKind::TokenRevoked => "Token revoked",
            EventKind::TokenUsedFromNewAddress => "Token used from a new address",
            EventKind::TokenRefused => "Token refused",
            EventKind::AccountDeactivated => "Account deactivated",
            EventKind::AccountReactivated => "Account reactivated",
            EventKind::RoleChanged => "Role changed",
        }
    }
}

/// Where an action came from, for its event: who did it (when that may not be the owner) and
/// from which client. Built once per request at each boundary; background work has none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub actor: Option<i64>,
    pub client: Option<IpAddr>,
    /// Already shortened (`short_user_agent`).
    pub user_agent: Option<String>,
}

impl Origin {
    pub fn new(actor: Option<i64>, client: Option<IpAddr>, user_agent: Option<&str>) -> Origin {
        Origin {
            actor,
            client,
            user_agent: user_agent.and_then(short_user_agent),
        }
    }

    /// Patio itself: the housekeeping sweep, the command line.
    pub fn patio(what: &str) -> Origin {
        Origin {
            user_agent: Some(what.to_owned()),
            ..Origin::default()
        }
    }
}

/// At most this many characters of a user agent are kept.
const USER_AGENT_CHARS: usize = 60;

/// A user agent as a person would name it: "Firefox 128 on Linux", "curl/8.5.0",
/// "git/2.43.0". Browsers are named by their brand and major version and the system; anything
/// else keeps its first product token. `None` for an empty or absent one.
pub fn short_user_agent(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let version = |brand: &str| -> Option<String> {
        let start = raw.find(brand)? + brand.len();
        let major: String = raw[start..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        Some(major)
    };
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("CriOS/", "Chrome"),
        ("Version/", "Safari"),
    ]
    .into_iter()
    .find_map(|(token, name)| version(token).map(|major| format!("{name} {major}")));
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(token, _)| raw.contains(token))
    .map(|(_, name)| name);
    let short = match (raw.starts_with("Mozilla/"), browser, system) {
        (true, Some(browser), Some(system)) => format!("{browser} on {system}"),
        (true, Some(browser), None) => browser,
        _ => raw.split_whitespace().next().unwrap_or(raw).to_owned(),
    };
    Some(
        short
            .chars()
            .filter(|c| !c.is_control())
            .take(USER_AGENT_CHARS)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_by_name() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(EventKind::parse("nothing"), None);
    }

    #[test]
    fn user_agents_are_shortened_for_people() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                "Firefox 128 on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge 131 on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like \
                 Gecko) Version/17.5 Safari/605.1.15",
                "Safari 17 on macOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome 131 on Android",
            ),
            ("curl/8.5.0", "curl/8.5.0"),
            ("git/2.43.0 (something)", "git/2.43.0"),
        ];
        for (raw, short) in cases {
            assert_eq!(short_user_agent(raw).as_deref(), Some(short), "{raw}");
        }
        assert_eq!(short_user_agent("   "), None);
        let long = "x".repeat(500);
        assert_eq!(short_user_agent(&long).unwrap().len(), USER_AGENT_CHARS);
        assert_eq!(short_user_agent("a\u{7}b").as_deref(), Some("ab"));
    }
}
