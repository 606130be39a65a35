//! The shapes REST answers in, shared by its resources: a token as its owner and
//! administrators see it, and the one response rule for secrets.

use crate::tokens::rules::{Access, RevokedReason, TokenStatus};
use crate::tokens::service::TokenSummary;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Token {
    id: i64,
    name: String,
    description: String,
    /// The last four characters of the secret.
    #[schema(example = "x9Qa")]
    hint: String,
    #[serde(serialize_with = "crate::time::rfc3339")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    expires_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339_option")]
    last_used_at: Option<DateTime<Utc>>,
    #[schema(example = "active")]
    status: ApiTokenStatus,
    /// `read_write`, or `read`: only `GET`, `HEAD` and `OPTIONS` requests.
    #[schema(value_type = String, example = "read_write")]
    access: Access,
    /// Addresses and networks the token may be used from; empty means anywhere.
    #[schema(example = json!(["203.0.113.0/24"]))]
    allowed_ips: Vec<String>,
    /// When the token was revoked (`status` is `revoked`), else null.
    #[serde(serialize_with = "crate::time::rfc3339_option")]
    revoked_at: Option<DateTime<Utc>>,
    /// The administrator who revoked it, when one did.
    revoked_by: Option<UserRef>,
    /// `admin`, `leaked`, `unused` or `deactivated`, when revoked.
    #[schema(value_type = Option<String>, example = "admin")]
    revoked_reason: Option<RevokedReason>,
    /// The most recent distinct client addresses it was used from, newest first (at most 5).
    last_used_ips: Vec<SeenIp>,
    /// Authenticated requests on each of the last 30 UTC days, oldest first.
    usage: Vec<DayUsage>,
}

#[derive(Serialize, ToSchema)]
pub struct SeenIp {
    #[schema(example = "203.0.113.7")]
    ip: String,
    #[serde(serialize_with = "crate::time::rfc3339")]
    last_seen_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct DayUsage {
    #[schema(example = "2026-11-30")]
    date: String,
    count: i64,
}

#[derive(Serialize, ToSchema)]
pub struct UserRef {
    id: i64,
    username: String,
}

impl From<crate::domain::accounts::UserRef> for UserRef {
    fn from(user: crate::domain::accounts::UserRef) -> UserRef {
        UserRef {
            id: user.id,
            username: user.username,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApiTokenStatus {
    Active,
    Expired,
    Revoked,
}

impl ApiTokenStatus {
    pub fn of(token: &crate::tokens::storage::PatRecord, now: DateTime<Utc>) -> ApiTokenStatus {
        match TokenStatus::of(token.expires_at, token.revoked.is_some(), now) {
            TokenStatus::Revoked => ApiTokenStatus::Revoked,
            TokenStatus::Expired => ApiTokenStatus::Expired,
            TokenStatus::Active | TokenStatus::ExpiringSoon => ApiTokenStatus::Active,
        }
    }
}

impl Token {
    pub fn of(summary: TokenSummary, now: DateTime<Utc>) -> Token {
        let TokenSummary {
            token,
            addresses,
            usage,
        } = summary;
        let status = ApiTokenStatus::of(&token, now);
        let revoked = token.revoked;
        Token {
            status,
            id: token.id,
            name: token.name,
            description: token.description,
            hint: token.hint,
            created_at: token.created_at,
            expires_at: token.expires_at,
            last_used_at: token.last_used_at,
            access: token.access,
            allowed_ips: token.allowed_ips.entries(),
            revoked_at: revoked.as_ref().map(|r| r.at),
            revoked_reason: revoked.as_ref().map(|r| r.reason),
            revoked_by: revoked.and_then(|r| r.by).map(UserRef::from),
            last_used_ips: addresses
                .into_iter()
                .map(|seen| SeenIp {
                    ip: seen.ip,
                    last_seen_at: seen.last_seen_at,
                })
                .collect(),
            usage: usage
                .into_iter()
                .map(|(date, count)| DayUsage {
                    date: date.to_string(),
                    count,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<Token>,
}

#[derive(Serialize, ToSchema)]
pub struct OneToken {
    pub token: Token,
}

/// A response that carries a secret must never be cached.
pub fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
