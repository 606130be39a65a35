//! What people do with accounts, with no HTTP in it: first-run setup, signing in (with the
//! brute-force limits), profile changes, administration, and password-grant access tokens.
//! The pages' server functions, the REST API and the command line all call these.

use crate::accounts::passwords::{Busy, Passwords};
use crate::db::StoreError;
use crate::domain::accounts::{username_key, DisplayName, NewPassword, Role, Username};
use crate::domain::events::{EventKind, Origin};
use crate::domain::problem::{Answer, Kind, Problem};
use crate::events::service::Events;
use crate::store::{AccessChange, LoginFailures, LoginLimits, NewUser, Store, UserRecord};
use crate::time::Clock;
use crate::tokens::rules::RevokedReason;
use crate::tokens::secret::{self, Secret};
use crate::tokens::storage::NewRevocation;
use chrono::{DateTime, Duration, Utc};

/// Failed sign-ins allowed per username, and per client address, within the window.
pub const MAX_FAILURES_PER_USERNAME: i64 = 5;

pub const MAX_FAILURES_PER_CLIENT: i64 = 20;

pub fn failure_window() -> Duration {
    Duration::minutes(15)
}

pub fn access_token_lifetime() -> Duration {
    Duration::hours(1)
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("The username or password is incorrect.")]
    BadCredentials,
    #[error("Too many failed sign-in attempts. Try again in {} minute(s).", retry_after_secs.div_ceil(60))]
    RateLimited { retry_after_secs: u64 },
    #[error("The current password is incorrect.")]
    WrongCurrentPassword,
    #[error(transparent)]
    Busy(#[from] Busy),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Problem for AccountError {
    fn answer(&self) -> Answer {
        let invalid = || Answer::new(Kind::Invalid, "invalid_request", self.to_string());
        match self {
            AccountError::Invalid { field, .. } => invalid().at(field),
            AccountError::WrongCurrentPassword => invalid().at("current_password"),
            AccountError::BadCredentials => invalid(),
            AccountError::RateLimited { retry_after_secs } => {
                let kind = Kind::RateLimited {
                    retry_after_secs: *retry_after_secs,
                };
                Answer::new(kind, "rate_limited", self.to_string())
            }
            AccountError::Busy(_) => {
                let kind = Kind::RateLimited {
                    retry_after_secs: 1,
                };
                Answer::new(kind, "rate_limited", self.to_string())
            }
            AccountError::Store(store) => store.answer(),
        }
    }
}

fn invalid(field: &'static str) -> impl FnOnce(String) -> AccountError {
    move |message| AccountError::Invalid { field, message }
}

/// The fields of a new account, as typed.
pub struct AccountForm<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub role: Role,
}

/// What an administrator changes about a user's access; `None` leaves it as it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct AccessRequest {
    pub active: Option<bool>,
    pub role: Option<Role>,
    /// With a deactivation: also revoke the user's personal access tokens (the default).
    pub revoke_tokens: Option<bool>,
}

fn rate_limited(
    failures: &LoginFailures,
    limits: &LoginLimits,
    now: DateTime<Utc>,
) -> AccountError {
    let oldest_blocking = [
        (failures.by_username >= limits.per_username).then_some(failures.oldest_by_username),
        (failures.by_client >= limits.per_client).then_some(failures.oldest_by_client),
    ]
    .into_iter()
    .flatten()
    .flatten()
    .max();
    AccountError::RateLimited {
        retry_after_secs: oldest_blocking.map_or(1, |oldest| retry_after(oldest, now)),
    }
}

/// Seconds until the oldest failure counted against a caller leaves the window.
fn retry_after(oldest: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let seconds = (oldest + failure_window() - now).num_seconds();
    seconds.max(1) as u64
}

/// The account use cases, with what they use: the store, the clock, the password hasher and the
/// slots that bound sign-in bookkeeping.
#[derive(Clone, Copy)]
pub struct Accounts<'a> {
    store: &'a Store,
    clock: &'a dyn Clock,
    passwords: &'a Passwords,
    login_slots: &'a tokio::sync::Semaphore,
}

impl<'a> Accounts<'a> {
    fn events(&self) -> Events<'a> {
        Events::new(self.store, self.clock)
    }

    pub fn new(
        store: &'a Store,
        clock: &'a dyn Clock,
        passwords: &'a Passwords,
        login_slots: &'a tokio::sync::Semaphore,
    ) -> Accounts<'a> {
        Accounts {
            store,
            clock,
            passwords,
            login_slots,
        }
    }

    async fn new_user(
        &self,
        form: &AccountForm<'_>,
    ) -> Result<(Username, DisplayName, String), AccountError> {
        let username = Username::parse(form.username).map_err(invalid("username"))?;
        let display_name = if form.display_name.trim().is_empty() {
            DisplayName::parse(username.as_str())
        } else {
            DisplayName::parse(form.display_name)
        }
        .map_err(invalid("display_name"))?;
        let password = NewPassword::parse(form.password).map_err(invalid("password"))?;
        let hash = self.passwords.hash(password.expose()).await?;
        Ok((username, display_name, hash))
    }

    /// Creates the first account, an administrator; refused once any user exists.
    pub async fn set_up(&self, form: AccountForm<'_>) -> Result<UserRecord, AccountError> {
        if self.store.has_users().await? {
            return Err(StoreError::AlreadySetUp.into());
        }
        let (username, display_name, password_hash) = self.new_user(&form).await?;
        let user = NewUser {
            username: &username,
            display_name: &display_name,
            password_hash,
            role: Role::Admin,
        };
        let admin = self
            .store
            .create_first_admin(user, self.clock.now())
            .await?;
        tracing::info!(user_id = admin.id, "first administrator created");
        Ok(admin)
    }

    /// An administrator creates an account.
    pub async fn create_user(
        &self,
        form: AccountForm<'_>,
        origin: &Origin,
    ) -> Result<UserRecord, AccountError> {
        let (username, display_name, password_hash) = self.new_user(&form).await?;
        let user = NewUser {
            username: &username,
            display_name: &display_name,
            password_hash,
            role: form.role,
        };
        let created = self.store.add_user(user, self.clock.now(), origin).await?;
        tracing::info!(user_id = created.id, role = %created.role, "user created");
        Ok(created)
    }

    /// An administrator (de)activates a user or changes their role. Deactivation ends the user's
    /// sessions and access tokens and, unless asked not to, revokes their personal access tokens,
    /// so reactivating the account does not bring any credential back.
    pub async fn change_access(
        &self,
        admin_id: i64,
        user_id: i64,
        request: AccessRequest,
        origin: &Origin,
    ) -> Result<UserRecord, AccountError> {
        let deactivating = request.active == Some(false);
        let change = AccessChange {
            active: request.active,
            role: request.role,
            revoke_tokens: (deactivating && request.revoke_tokens.unwrap_or(true)).then(|| {
                NewRevocation {
                    at: self.clock.now(),
                    by: Some(admin_id),
                    reason: RevokedReason::Deactivated,
                }
            }),
        };
        let user = self
            .store
            .update_user_access(user_id, change, self.clock.now(), origin)
            .await?;
        tracing::info!(user_id, active = user.active, role = %user.role, "user access changed");
        Ok(user)
    }

    /// An administrator ends every credential of a user at once: sessions and access tokens, and
    /// revokes their personal access tokens. Returns how many tokens were revoked.
    pub async fn revoke_credentials(
        &self,
        admin_id: i64,
        user_id: i64,
        origin: &Origin,
    ) -> Result<u64, AccountError> {
        self.store
            .user_by_id(user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        self.store.end_sign_ins(user_id).await?;
        let revocation = NewRevocation {
            at: self.clock.now(),
            by: Some(admin_id),
            reason: RevokedReason::Admin,
        };
        let revoked = self
            .store
            .revoke_user_pats(user_id, revocation, origin)
            .await?;
        tracing::info!(user_id, revoked, "all credentials of the user revoked");
        Ok(revoked)
    }

    /// Checks a username and password under the brute-force limits (SPEC §1). A refused attempt
    /// spends no argon2 work; an unknown username costs the same as a wrong password.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        origin: &Origin,
    ) -> Result<UserRecord, AccountError> {
        let key = username_key(username);
        let user = self.store.user_by_username(&key).await?;
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let verified = self.check_password(&key, origin, password, stored).await?;
        match user {
            Some(user) if verified && user.active => Ok(user),
            Some(user) if !verified => {
                tracing::info!("sign-in refused");
                // A wrong password for a real account goes in its owner's log; attempts refused by
                // the limits do not (they are not checked, and a flood must not become writes).
                let origin = Origin {
                    actor: None,
                    ..origin.clone()
                };
                self.events()
                    .record(user.id, EventKind::SignInFailed, &origin, None, None)
                    .await?;
                Err(AccountError::BadCredentials)
            }
            _ => {
                tracing::info!("sign-in refused");
                Err(AccountError::BadCredentials)
            }
        }
    }

    /// Verifies `password` against `stored` (a dummy hash when `None`) under the limits of the
    /// username `key` and the client address. The attempt is recorded as a failure before the
    /// verify, in the same atomic step as the count, so concurrent guesses cannot all slip under
    /// the limit; a right password removes its record afterwards.
    async fn check_password(
        &self,
        key: &str,
        origin: &Origin,
        password: &str,
        stored: Option<String>,
    ) -> Result<bool, AccountError> {
        let now = self.clock.now();
        let client = origin
            .client
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        let client = client.as_str();
        let limits = LoginLimits {
            since: now - failure_window(),
            per_username: MAX_FAILURES_PER_USERNAME,
            per_client: MAX_FAILURES_PER_CLIENT,
        };
        let reserved = {
            let _slot = self.login_slots.acquire().await;
            self.store
                .reserve_login_attempt(key, client, now, limits)
                .await?
        };
        let reservation = match reserved {
            Ok(reservation) => reservation,
            Err(failures) => return Err(rate_limited(&failures, &limits, now)),
        };
        let verified = self.passwords.verify(password, stored).await;
        if verified == Ok(true) || verified.is_err() {
            // A right password, or one that was never checked, is no failure.
            let _slot = self.login_slots.acquire().await;
            self.store.cancel_login_attempt(reservation).await?;
        }
        Ok(verified?)
    }

    /// The password grant of SPEC §2: a one-hour access token for valid credentials.
    pub async fn issue_access_token(
        &self,
        username: &str,
        password: &str,
        origin: &Origin,
    ) -> Result<Secret, AccountError> {
        let user = self.sign_in(username, password, origin).await?;
        let token = secret::new_access_token();
        let now = self.clock.now();
        let expires_at = now + access_token_lifetime();
        self.store
            .create_access_token(&token.digest(), user.id, now, expires_at, origin)
            .await?;
        tracing::info!(user_id = user.id, "access token issued");
        Ok(token)
    }

    pub async fn change_display_name(
        &self,
        user_id: i64,
        display_name: &str,
    ) -> Result<(), AccountError> {
        let name = DisplayName::parse(display_name).map_err(invalid("display_name"))?;
        Ok(self.store.set_display_name(user_id, &name).await?)
    }

    /// Changes a password after checking the current one, under the same limits as signing in;
    /// ends every other session of the user.
    pub async fn change_password(
        &self,
        user_id: i64,
        current: &str,
        new: &str,
        keep_session: Option<&str>,
        origin: &Origin,
    ) -> Result<(), AccountError> {
        let new = NewPassword::parse(new).map_err(invalid("new_password"))?;
        // Requests carry the caller without the password hash, so it is read here.
        let user = self
            .store
            .user_by_id(user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let key = username_key(&user.username);
        if !self
            .check_password(&key, origin, current, Some(user.password_hash))
            .await?
        {
            let detail = Some("current_password");
            self.events()
                .record(user_id, EventKind::SignInFailed, origin, None, detail)
                .await?;
            return Err(AccountError::WrongCurrentPassword);
        }
        let hash = self.passwords.hash(new.expose()).await?;
        self.store
            .set_password(user_id, &hash, keep_session, self.clock.now(), origin)
            .await?;
        tracing::info!(user_id, "password changed");
        Ok(())
    }

    /// For an operator who lost the admin password: gives `username` (created if missing) a new
    /// random password, the admin role and an active account, and ends its sessions.
    pub async fn reset_admin(&self, username: &str) -> Result<String, AccountError> {
        let password = secret::new_session_id().into_exposed()[..20].to_owned();
        let admin = AccessChange {
            active: Some(true),
            role: Some(Role::Admin),
            revoke_tokens: None,
        };
        match self.store.user_by_username(&username_key(username)).await? {
            Some(user) => {
                let hash = self.passwords.hash(&password).await?;
                let now = self.clock.now();
                let origin = Origin::patio("patio admin reset-password");
                self.store
                    .set_password(user.id, &hash, None, now, &origin)
                    .await?;
                self.store
                    .update_user_access(user.id, admin, now, &origin)
                    .await?;
            }
            None => {
                let form = AccountForm {
                    username,
                    display_name: "",
                    password: &password,
                    role: Role::Admin,
                };
                self.create_user(form, &Origin::patio("patio admin reset-password"))
                    .await?;
            }
        }
        Ok(password)
    }
}
