//! What a token's storage holds and must do. `store` answers it with the tables' literal SQL;
//! the lifecycle (`service`), authentication and usage counting ask only for this, so they
//! import no table and can be read — and tested — without one. A check that must hold with
//! its write (the five-token limit, a name unique among active tokens) is one method, decided
//! under the storage's lock, and comes back as an outcome, not an error.

use crate::db::StoreResult;
use crate::domain::accounts::{Account, Role, UserRef};
use crate::domain::events::Origin;
use crate::tokens::allowlist::AllowList;
use crate::tokens::policy::Policy;
use crate::tokens::rules::{Access, RevokedReason, TokenDescription, TokenError, TokenName};
use chrono::{DateTime, Utc};
use std::future::Future;

/// The storage the token use cases need, and nothing more.
pub trait TokenStore: Send + Sync {
    /// The instance's token policy (SPEC §14).
    fn policy(&self) -> impl Future<Output = StoreResult<Policy>> + Send;

    /// A user's role, `None` if there is no such user.
    fn role_of(&self, user_id: i64) -> impl Future<Output = StoreResult<Option<Role>>> + Send;

    /// Inserts a token unless its owner has `limit` active tokens already, or an active token
    /// of the same name; both checked with the write.
    fn create_pat(
        &self,
        pat: NewPat<'_>,
        now: DateTime<Utc>,
        limit: usize,
        origin: &Origin,
    ) -> impl Future<Output = StoreResult<Result<PatRecord, TokenError>>> + Send;

    /// A user's tokens, active, expired and revoked, newest first.
    fn list_pats(&self, user_id: i64) -> impl Future<Output = StoreResult<Vec<PatRecord>>> + Send;

    /// Where a user's tokens were used, and how much on each day from `since_day` on.
    fn pat_activity(
        &self,
        user_id: i64,
        since_day: i64,
    ) -> impl Future<Output = StoreResult<TokenActivity>> + Send;

    fn update_pat(
        &self,
        user_id: i64,
        id: i64,
        change: PatChange,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> impl Future<Output = StoreResult<Change<PatRecord>>> + Send;

    /// A new secret and expiration for one of the user's tokens; its name must still be free
    /// among active tokens and the limit not reached (a revived expired token counts).
    fn regenerate_pat(
        &self,
        user_id: i64,
        id: i64,
        renewal: Renewal,
        now: DateTime<Utc>,
        limit: usize,
        origin: &Origin,
    ) -> impl Future<Output = StoreResult<Change<PatRecord>>> + Send;

    /// Revokes a live token; `false` when there is none of that id.
    fn revoke_pat(
        &self,
        id: i64,
        revocation: NewRevocation,
        origin: &Origin,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Deletes one of the user's tokens; `false` when the user has none of that id.
    fn delete_pat(
        &self,
        user_id: i64,
        id: i64,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// The unrevoked token whose secret has this digest, with its owner.
    fn pat(
        &self,
        digest: &str,
    ) -> impl Future<Output = StoreResult<Option<(PatCredential, Account)>>> + Send;

    /// Sets a token's last use to `now`, unless it was used after `unless_used_after`.
    fn touch_pat(
        &self,
        id: i64,
        now: DateTime<Utc>,
        unless_used_after: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Records a use from `ip`, keeping the `MAX_ADDRESSES` most recent addresses; a new one
    /// goes to the owner's security log.
    fn record_pat_address(
        &self,
        token_id: i64,
        ip: &str,
        at: DateTime<Utc>,
        origin: &Origin,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Adds counted requests to the tokens' daily totals.
    fn add_pat_usage(&self, counts: &[UsageCount]) -> impl Future<Output = StoreResult<()>> + Send;

    /// Adds counted requests to the per-kind daily totals (Admin › Overview). Sessions and
    /// access tokens are counted too: the counter that flushes them is the tokens' (`usage`).
    fn add_request_counts(
        &self,
        counts: &[KindCount],
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatRecord {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub description: String,
    pub hint: String,
    pub created_at: DateTime<Utc>,
    /// When the current secret was issued: at creation, or at the last regeneration.
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub access: Access,
    pub allowed_ips: AllowList,
    pub revoked: Option<Revocation>,
}

/// Who revoked a token, when and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    pub at: DateTime<Utc>,
    /// The revoking user, unless it was no one (the leaked-token intake, a policy) or that
    /// account is gone.
    pub by: Option<UserRef>,
    pub reason: RevokedReason,
}

pub struct NewPat<'a> {
    pub user_id: i64,
    pub name: &'a TokenName,
    pub description: &'a TokenDescription,
    pub digest: String,
    pub hint: String,
    pub expires_at: DateTime<Utc>,
    pub access: Access,
    pub allowed_ips: &'a AllowList,
}

/// A new secret and expiration for an existing token.
pub struct Renewal {
    pub digest: String,
    pub hint: String,
    pub expires_at: DateTime<Utc>,
}

/// Changes to a token; `None` keeps a field as it is.
#[derive(Clone, Debug, Default)]
pub struct PatChange {
    pub name: Option<TokenName>,
    pub description: Option<TokenDescription>,
    pub access: Option<Access>,
    pub allowed_ips: Option<AllowList>,
}

/// What became of a change to an existing token.
#[derive(Debug)]
pub enum Change<T> {
    Done(T),
    /// No such token of this user's.
    NotFound,
    /// A rule refused it, decided with the write (a name taken meanwhile, say).
    Refused(TokenError),
}

/// A revocation about to be recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewRevocation {
    pub at: DateTime<Utc>,
    pub by: Option<i64>,
    pub reason: RevokedReason,
}

/// What authenticating with a PAT needs of it. Revoked tokens are never returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatCredential {
    pub id: i64,
    pub name: String,
    /// When its current secret was issued.
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub access: Access,
    pub allowed_ips: AllowList,
}

/// A client address a token was used from, and when last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenAddress {
    pub ip: String,
    pub last_seen_at: DateTime<Utc>,
}

/// How many distinct addresses a token keeps.
pub const MAX_ADDRESSES: i64 = 5;

/// Where and how much a user's tokens were used.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenActivity {
    /// Per token, its most recent addresses, newest first (at most `MAX_ADDRESSES`).
    pub addresses: std::collections::HashMap<i64, Vec<SeenAddress>>,
    /// Per token, its requests per day since the day asked for: (day, requests).
    pub usage: std::collections::HashMap<i64, Vec<(i64, i64)>>,
}

/// Requests one token made on one UTC day (days since the Unix epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageCount {
    pub token_id: i64,
    pub day: i64,
    pub requests: i64,
}

/// Authenticated requests with one kind of credential on one UTC day (days since the epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindCount {
    pub day: i64,
    /// `pat`, `session` or `access_token`.
    pub kind: &'static str,
    pub requests: i64,
}
