//! Storage (SPEC §6): one trait, two backends — SQLite embedded by default, PostgreSQL for
//! production. Operations whose check must hold with their write (the five-token limit, the
//! last admin, first-run setup) are single trait methods, made atomic inside each backend.

use crate::accounts::rules::{DisplayName, Role, Username};
use crate::admin::audit_rules::AuditAction;
use crate::events::rules::{EventKind, Origin};
use crate::tokens::allowlist::AllowList;
use crate::tokens::policy::Policy;
use crate::tokens::rules::{Access, RevokedReason, TokenDescription, TokenError, TokenName};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

#[macro_use]
mod sql;
mod postgres;
mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

pub type StoreResult<T> = Result<T, StoreError>;

/// Why the database cannot do what was asked: each is answered with 503, in its own words, so
/// whoever runs Patio knows what to fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outage {
    Unreachable,
    DiskFull,
    ReadOnly,
}

impl Outage {
    /// For whoever runs Patio, e.g. when it cannot start.
    pub fn cause(self) -> &'static str {
        match self {
            Outage::Unreachable => "the database cannot be reached",
            Outage::DiskFull => "the disk is full",
            Outage::ReadOnly => "the database or its folder is read-only",
        }
    }

    /// For the person whose request failed.
    pub fn message(self) -> &'static str {
        match self {
            Outage::Unreachable => {
                "Patio cannot reach its database right now. Try again in a moment."
            }
            Outage::DiskFull => {
                "Patio's database has run out of disk space, so nothing can be saved. \
                 Ask whoever runs Patio to free some space."
            }
            Outage::ReadOnly => {
                "Patio's database is read-only, so nothing can be saved. \
                 Ask whoever runs Patio to make it writable."
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or failed; callers answer 503.
    #[error("database unavailable: {0}")]
    Unavailable(#[from] sqlx::Error),
    #[error("could not apply database migrations: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (expected sqlite: or postgres:)")]
    UnsupportedUrl,
    #[error("setup is already done")]
    AlreadySetUp,
    #[error("that username is taken")]
    UsernameTaken,
    #[error("not found")]
    NotFound,
    #[error("the last active administrator cannot be deactivated or demoted")]
    LastAdmin,
    /// What this backend does not do, and what to do instead.
    #[error("{0}")]
    Unsupported(&'static str),
    #[error(transparent)]
    Token(#[from] TokenError),
}

impl StoreError {
    /// The kind of outage behind a failure that is not the caller's doing.
    pub fn outage(&self) -> Outage {
        let error = match self {
            StoreError::Unavailable(error) => error,
            StoreError::Migration(sqlx::migrate::MigrateError::Execute(error)) => error,
            _ => return Outage::Unreachable,
        };
        if let sqlx::Error::Io(io) = error {
            return match io.kind() {
                std::io::ErrorKind::StorageFull => Outage::DiskFull,
                std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied => {
                    Outage::ReadOnly
                }
                _ => Outage::Unreachable,
            };
        }
        let code = error
            .as_database_error()
            .and_then(|database| database.code())
            .unwrap_or_default();
        match code.as_ref() {
            // PostgreSQL's SQLSTATEs: disk_full, read_only_sql_transaction.
            "53100" => Outage::DiskFull,
            "25006" => Outage::ReadOnly,
            // SQLite's extended result codes: SQLITE_FULL, and SQLITE_READONLY with its variants.
            code => match code.parse::<i32>().map(|code| code & 0xff) {
                Ok(13) => Outage::DiskFull,
                Ok(8) => Outage::ReadOnly,
                _ => Outage::Unreachable,
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// The account behind a credential: what every request needs to know about its caller, read
/// fresh each time. Narrower than `UserRecord` (no password hash), so authenticating a request
/// decodes only what it uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
}

pub struct NewUser<'a> {
    pub username: &'a Username,
    pub display_name: &'a DisplayName,
    pub password_hash: String,
    pub role: Role,
}

/// A change an administrator makes to a user's access; `None` leaves a field as it is.
/// Deactivation always ends the user's sessions and access tokens; `revoke_tokens` also
/// revokes their personal access tokens.
#[derive(Clone, Copy, Debug, Default)]
pub struct AccessChange {
    pub active: Option<bool>,
    pub role: Option<Role>,
    pub revoke_tokens: Option<NewRevocation>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub user_id: i64,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// Failed sign-ins inside the brute-force window, per username and per client address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoginFailures {
    pub by_username: i64,
    pub oldest_by_username: Option<DateTime<Utc>>,
    pub by_client: i64,
    pub oldest_by_client: Option<DateTime<Utc>>,
}

/// The brute-force limits a sign-in attempt is reserved under.
#[derive(Clone, Copy, Debug)]
pub struct LoginLimits {
    /// Failures after this instant count.
    pub since: DateTime<Utc>,
    pub per_username: i64,
    pub per_client: i64,
}

impl LoginFailures {
    /// Whether another attempt stays within `limits`.
    pub fn allow(&self, limits: &LoginLimits) -> bool {
        self.by_username < limits.per_username && self.by_client < limits.per_client
    }
}

/// An attempt counted as a failure until it is known to have succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginReservation(pub i64);

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

/// What Admin › Overview counts, as of `now` (SPEC §14).
#[derive(Clone, Copy, Debug)]
pub struct OverviewQuery {
    pub now: DateTime<Utc>,
    /// Active tokens expiring before this are "expiring soon".
    pub expiring_before: DateTime<Utc>,
    /// Active tokens not used (nor created) since this are "unused".
    pub unused_since: DateTime<Utc>,
    /// Revocations from this instant on are "this month's".
    pub month_start: DateTime<Utc>,
    /// Request counts from this day on.
    pub since_day: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overview {
    pub users: i64,
    pub active_tokens: i64,
    pub expiring_soon: i64,
    pub unused: i64,
    pub revoked_this_month: i64,
    /// Per day and kind: (day, kind, requests).
    pub requests: Vec<(i64, String, i64)>,
}

/// A client address a token was used from, and when last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenAddress {
    pub ip: String,
    pub last_seen_at: DateTime<Utc>,
}

/// Where and how much a user's tokens were used.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenActivity {
    /// Per token, its most recent addresses, newest first (at most `MAX_ADDRESSES`).
    pub addresses: std::collections::HashMap<i64, Vec<SeenAddress>>,
    /// Per token, its requests per day since the day asked for: (day, requests).
    pub usage: std::collections::HashMap<i64, Vec<(i64, i64)>>,
}

/// Which tokens an administrator's inventory lists (SPEC §14); `None` leaves a filter out.
#[derive(Clone, Debug, Default)]
pub struct InventoryFilter {
    pub user_id: Option<i64>,
    pub status: Option<InventoryStatus>,
    /// Active tokens that expire before this instant.
    pub expires_before: Option<DateTime<Utc>>,
    /// Tokens not used (nor created) since this instant.
    pub unused_since: Option<DateTime<Utc>>,
    /// The tokens after this one in `sort`'s order (the next page).
    pub before_id: Option<i64>,
    pub sort: InventorySort,
    pub limit: i64,
}

/// The inventory's order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InventorySort {
    /// Newest first.
    #[default]
    Newest,
    /// Soonest expiry first.
    Expires,
    /// Least recently used first, never-used ones first of all.
    LastUsed,
}

impl InventorySort {
    pub fn as_str(self) -> &'static str {
        match self {
            InventorySort::Newest => "newest",
            InventorySort::Expires => "expires",
            InventorySort::LastUsed => "last_used",
        }
    }

    pub fn parse(text: &str) -> Option<InventorySort> {
        [
            InventorySort::Newest,
            InventorySort::Expires,
            InventorySort::LastUsed,
        ]
        .into_iter()
        .find(|sort| sort.as_str() == text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InventoryStatus {
    Active,
    Expired,
    Revoked,
}

impl InventoryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InventoryStatus::Active => "active",
            InventoryStatus::Expired => "expired",
            InventoryStatus::Revoked => "revoked",
        }
    }
}

/// A token in the inventory: with its owner and the address it was last used from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryEntry {
    pub token: PatRecord,
    pub owner: UserRef,
    pub last_ip: Option<String>,
}

/// How many distinct addresses a token keeps.
pub const MAX_ADDRESSES: i64 = 5;

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

/// Who revoked a token, when and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    pub at: DateTime<Utc>,
    /// The revoking user, unless it was no one (the leaked-token intake, a policy) or that
    /// account is gone.
    pub by: Option<UserRef>,
    pub reason: RevokedReason,
}

/// A token just revoked, for the log (and, later, its owner's notifications).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedPat {
    pub id: i64,
    pub user_id: i64,
    pub hint: String,
}

/// A revocation about to be recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewRevocation {
    pub at: DateTime<Utc>,
    pub by: Option<i64>,
    pub reason: RevokedReason,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRef {
    pub id: i64,
    pub username: String,
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

/// A resource server allowed to introspect tokens (SPEC §12).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRecord {
    pub id: i64,
    pub name: String,
    pub client_id: String,
    pub secret_digest: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolUsage {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// Rows older than these instants are of no further use and may be deleted.
#[derive(Clone, Copy, Debug)]
pub struct StaleBefore {
    pub session_created: DateTime<Utc>,
    pub session_seen: DateTime<Utc>,
    pub access_token_expired: DateTime<Utc>,
    pub login_failure: DateTime<Utc>,
    pub security_event: DateTime<Utc>,
}

/// An event about to be written to a user's security log (SPEC §10).
#[derive(Clone, Copy, Debug)]
pub struct NewEvent<'a> {
    /// Whose log it goes to.
    pub user_id: i64,
    pub kind: EventKind,
    pub at: DateTime<Utc>,
    pub origin: &'a Origin,
    /// The token it is about: id and name.
    pub token: Option<(i64, &'a str)>,
    /// What the kind alone does not say: a revocation's reason, a new role, a refusal's cause.
    pub detail: Option<&'a str>,
}

/// A user's notification settings (SPEC §11).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotificationSettings {
    pub email: Option<String>,
    pub email_verified: bool,
    pub webhook: Option<WebhookRecord>,
    pub has_calendar_feed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookRecord {
    pub url: String,
    /// The signing secret (`Patio-Signature`); it opens nothing in Patio.
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

/// A notification about to be queued: once per `key`, to each of the user's channels.
#[derive(Clone, Copy, Debug)]
pub struct NewNotice<'a> {
    pub user_id: i64,
    pub kind: &'a str,
    /// What makes it one notification and not another, e.g. `expiry7:<token>:<expires_at>`.
    pub key: &'a str,
    /// The facts it tells, as JSON.
    pub payload: &'a str,
    pub at: DateTime<Utc>,
}

/// A queued notification leased to this sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub user_id: i64,
    /// `mail` or `webhook`.
    pub channel: String,
    pub kind: String,
    pub payload: String,
    /// The e-mail address or webhook URL it was queued for.
    pub recipient: String,
    pub created_at: DateTime<Utc>,
    /// Including this one.
    pub attempts: i64,
}

/// How a delivery attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Sent { status: String },
    Retry { at: DateTime<Utc>, status: String },
    Failed { status: String },
}

/// A notification as its user's Notifications page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: i64,
    pub channel: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub attempts: i64,
    pub sent_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub last_status: Option<String>,
}

/// An entry of the audit log (SPEC §14).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The administrator who acted; `None` for the command line, the intake or a policy.
    pub actor: Option<UserRef>,
    pub action: AuditAction,
    /// The account acted on, if any.
    pub user: Option<UserRef>,
    pub token_id: Option<i64>,
    pub token_name: Option<String>,
    pub detail: Option<String>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Which audit entries to list; `None` leaves a filter out.
#[derive(Clone, Copy, Debug, Default)]
pub struct AuditFilter {
    pub actor_id: Option<i64>,
    pub action: Option<AuditAction>,
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// An event in a user's security log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRecord {
    pub id: i64,
    pub kind: EventKind,
    pub at: DateTime<Utc>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub token_id: Option<i64>,
    pub token_name: Option<String>,
    /// Who acted, when not the log's owner (and the account still exists).
    pub actor: Option<UserRef>,
    pub detail: Option<String>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// One round trip, for `/healthz`.
    async fn ping(&self) -> StoreResult<()>;
    /// How many connections the pool holds, how many are idle, and its maximum.
    fn pool_usage(&self) -> PoolUsage;
    /// Stop handing out connections (graceful shutdown).
    async fn close(&self);

    async fn has_users(&self) -> StoreResult<bool>;
    /// Creates the first account as administrator; `AlreadySetUp` once any user exists.
    async fn create_first_admin(
        &self,
        user: NewUser<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<UserRecord>;
    /// `UsernameTaken` when the case-insensitive username exists.
    async fn create_user(
        &self,
        user: NewUser<'_>,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<UserRecord>;
    async fn user_by_id(&self, id: i64) -> StoreResult<Option<UserRecord>>;
    async fn user_by_username(&self, username_key: &str) -> StoreResult<Option<UserRecord>>;
    async fn list_users(&self) -> StoreResult<Vec<UserRecord>>;
    /// `NotFound`, or `LastAdmin` when the change would leave no active administrator.
    async fn update_user_access(
        &self,
        id: i64,
        change: AccessChange,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<UserRecord>;
    async fn set_display_name(&self, id: i64, name: &DisplayName) -> StoreResult<()>;
    /// Replaces the password hash and ends every session but `keep_session` and every
    /// access token of the user.
    async fn set_password(
        &self,
        id: i64,
        password_hash: &str,
        keep_session: Option<&str>,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<()>;

    /// Starts a session, recording the sign-in.
    async fn create_session(
        &self,
        digest: &str,
        user_id: i64,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<()>;
    async fn session(&self, digest: &str) -> StoreResult<Option<(SessionRecord, Account)>>;
    async fn touch_session(&self, digest: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// Ends a session that is no longer valid.
    async fn delete_session(&self, digest: &str) -> StoreResult<()>;
    /// Ends a session because its user signs out (or signs in anew), recording it.
    async fn sign_out(&self, digest: &str, now: DateTime<Utc>, origin: &Origin) -> StoreResult<()>;

    async fn create_access_token(
        &self,
        digest: &str,
        user_id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<()>;
    /// The expiry and owner of an access token.
    async fn access_token(&self, digest: &str) -> StoreResult<Option<(DateTime<Utc>, Account)>>;

    /// Counts the failures within `limits` and, when another attempt is allowed, records one
    /// more failure for it, as one atomic step: concurrent attempts (on any instance) are each
    /// counted before any password is checked. `Err` carries the counts that refused it.
    async fn reserve_login_attempt(
        &self,
        username_key: &str,
        client: &str,
        now: DateTime<Utc>,
        limits: LoginLimits,
    ) -> StoreResult<Result<LoginReservation, LoginFailures>>;
    /// Removes the failure recorded for an attempt that succeeded.
    async fn cancel_login_attempt(&self, reservation: LoginReservation) -> StoreResult<()>;

    /// Inserts a token unless the user already has `limit` active tokens
    /// (`Token(LimitReached)`) or an active token with the same name (`Token(DuplicateName)`),
    /// as one atomic step.
    async fn create_pat(
        &self,
        pat: NewPat<'_>,
        now: DateTime<Utc>,
        limit: usize,
        origin: &Origin,
    ) -> StoreResult<PatRecord>;
    /// A user's tokens, active, expired and revoked, newest first.
    async fn list_pats(&self, user_id: i64) -> StoreResult<Vec<PatRecord>>;
    /// Changes one of a user's tokens (`None` when there is no such token of theirs); a new
    /// name must stay unique among the user's active tokens (`Token(DuplicateName)`).
    async fn update_pat(
        &self,
        user_id: i64,
        id: i64,
        change: PatChange,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<Option<PatRecord>>;
    /// Gives one of a user's tokens a new secret and expiration, as one atomic step: the old
    /// secret stops working when this commits. Refused for a token revoked for a reason that
    /// allows no regeneration (`Token(NotRegenerable)`); a token that is not active (expired,
    /// or revoked as unused) comes back only within `limit` and with a name no active token
    /// has. `None` when the user has no such token.
    async fn regenerate_pat(
        &self,
        user_id: i64,
        id: i64,
        renewal: Renewal,
        now: DateTime<Utc>,
        limit: usize,
        origin: &Origin,
    ) -> StoreResult<Option<PatRecord>>;
    /// Revokes one token unless it is already revoked; whether it was revoked now.
    async fn revoke_pat(
        &self,
        id: i64,
        revocation: NewRevocation,
        origin: &Origin,
    ) -> StoreResult<bool>;
    /// Records a token's use from `ip` at `at`, keeping its `MAX_ADDRESSES` most recent
    /// addresses; an address it was not known at is logged as a new one.
    async fn record_pat_address(
        &self,
        token_id: i64,
        ip: &str,
        at: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<()>;
    /// Adds counted requests to the tokens' daily totals (tokens deleted meanwhile are skipped).
    async fn add_pat_usage(&self, counts: &[UsageCount]) -> StoreResult<()>;
    /// Adds counted requests to the daily totals per credential kind.
    async fn add_request_counts(&self, counts: &[KindCount]) -> StoreResult<()>;
    async fn overview(&self, query: OverviewQuery) -> StoreResult<Overview>;
    /// The addresses and daily requests (from day `since_day` on) of a user's tokens.
    async fn pat_activity(&self, user_id: i64, since_day: i64) -> StoreResult<TokenActivity>;
    /// Every user's tokens that pass `filter`, newest first, at most `filter.limit`.
    async fn inventory(
        &self,
        filter: &InventoryFilter,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<InventoryEntry>>;
    /// Revokes the live tokens (neither revoked nor expired) among these digests; which.
    async fn revoke_leaked_pats(
        &self,
        digests: &[String],
        revocation: NewRevocation,
        origin: &Origin,
    ) -> StoreResult<Vec<RevokedPat>>;
    /// Revokes every token of a user that is not yet revoked or expired; how many.
    async fn revoke_user_pats(
        &self,
        user_id: i64,
        revocation: NewRevocation,
        origin: &Origin,
    ) -> StoreResult<u64>;
    /// Ends every session and access token of a user.
    async fn end_sign_ins(&self, user_id: i64) -> StoreResult<()>;
    /// Whether a token of this user was deleted.
    async fn delete_pat(
        &self,
        user_id: i64,
        id: i64,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<bool>;
    async fn pat(&self, digest: &str) -> StoreResult<Option<(PatCredential, Account)>>;
    /// Records use at `now` unless it was already recorded after `unless_used_after`.
    async fn touch_pat(
        &self,
        id: i64,
        now: DateTime<Utc>,
        unless_used_after: DateTime<Utc>,
    ) -> StoreResult<()>;

    async fn delete_stale(&self, before: StaleBefore) -> StoreResult<()>;

    /// Writes a consistent copy of the whole database to a new file at `path`, while serving.
    async fn backup(&self, path: &std::path::Path) -> StoreResult<()>;

    /// Writes one event on its own (for what is not a change: a refused sign-in or token).
    async fn record_event(&self, event: NewEvent<'_>) -> StoreResult<()>;
    /// A user's events, newest first: at most `limit`, with ids below `before_id` if given.
    async fn events(
        &self,
        user_id: i64,
        before_id: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<EventRecord>>;
    /// Logs "expired" once for each token whose expiry has passed by `now` (with several
    /// instances too: each token is claimed by one); how many.
    async fn log_expired_pats(&self, now: DateTime<Utc>) -> StoreResult<u64>;

    async fn notification_settings(&self, user_id: i64) -> StoreResult<NotificationSettings>;
    /// Sets (or with `None` removes) the user's address, unverified; with a verification link's
    /// digest, queues the mail that carries it.
    async fn set_email(
        &self,
        user_id: i64,
        email: Option<&str>,
        verification: Option<(&str, DateTime<Utc>)>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Uses a verification link once; the user whose address it verified.
    async fn verify_email(&self, digest: &str, now: DateTime<Utc>) -> StoreResult<Option<i64>>;
    async fn set_webhook(
        &self,
        user_id: i64,
        url: &str,
        secret: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn delete_webhook(&self, user_id: i64) -> StoreResult<bool>;
    /// Sets or (with `None`) removes the digest of the user's calendar feed secret.
    async fn set_calendar_feed(&self, user_id: i64, digest: Option<&str>) -> StoreResult<()>;
    /// The active user a calendar feed secret belongs to.
    async fn calendar_feed_owner(&self, digest: &str) -> StoreResult<Option<i64>>;
    /// Queues the verification mail of an address not yet verified (the one mail it may get).
    async fn enqueue_verification(
        &self,
        user_id: i64,
        email: &str,
        key: &str,
        payload: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Queues a notification to each of the user's channels, once per key; how many rows.
    async fn enqueue_notice(&self, notice: NewNotice<'_>) -> StoreResult<u64>;
    /// Queues the 7-day and 1-day reminders of every live token now in those windows (each
    /// once, whichever instance asks); how many.
    async fn enqueue_expiry_reminders(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Leases up to `limit` due notifications to this sender until `lease_until`.
    async fn claim_outbox(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<OutboxItem>>;
    async fn finish_outbox(
        &self,
        id: i64,
        outcome: DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The user's latest notifications, newest first.
    async fn deliveries(&self, user_id: i64, limit: i64) -> StoreResult<Vec<DeliveryRecord>>;

    /// The audit log, newest first, filtered.
    async fn audit(&self, filter: AuditFilter) -> StoreResult<Vec<AuditRecord>>;

    async fn policy(&self) -> StoreResult<Policy>;
    /// Replaces the policy, recording it in the audit log.
    async fn set_policy(
        &self,
        policy: &Policy,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<()>;
    /// Revokes the live tokens unused (and not created or regenerated) since `unused_since`, as
    /// one claim: with several instances each token is revoked, and logged, once. How many.
    async fn revoke_unused_pats(
        &self,
        unused_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;

    async fn create_client(
        &self,
        name: &str,
        client_id: &str,
        secret_digest: &str,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<ClientRecord>;
    /// Every introspection client, oldest first.
    async fn list_clients(&self) -> StoreResult<Vec<ClientRecord>>;
    /// Whether a client was deleted.
    async fn delete_client(
        &self,
        id: i64,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<bool>;
    async fn client(&self, client_id: &str) -> StoreResult<Option<ClientRecord>>;
}

/// Opens the store a database URL names, creating what it needs and applying migrations.
pub async fn open(url: &str) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PgStore::open(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl)
    }
}

/// Which writers must wait for each other.
#[derive(Clone, Copy, Debug)]
enum WriteLock {
    /// Decisions about the set of users (first run, the last administrator).
    Users,
    /// Decisions about one user's tokens.
    User(i64),
    /// Counting and recording sign-in attempts.
    LoginAttempts,
}
