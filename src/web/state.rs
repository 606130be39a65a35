//! What every handler, server function and background task can reach: the configuration, the
//! store, the clock and the shared parts built once per process.

use crate::accounts::passwords::Passwords;
use crate::config::Config;
use crate::db::StoreResult;
use crate::store::Store;
use crate::time::{Clock, SystemClock};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use leptos::prelude::AnyView;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Sign-in attempts whose bookkeeping may use the database at once. The PostgreSQL pool has 4
/// connections on 2 cores: with two left for API requests, a successful-sign-in flood does not
/// make them wait (BENCHMARKS-postgres.md).
const LOGIN_SLOTS: usize = 2;

/// Largest request body Patio reads (SPEC §5).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler and server function can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<Store>,
    pub clock: Arc<dyn Clock>,
    pub passwords: Passwords,
    /// Recent failed introspection-client authentications, per address.
    pub client_failures: crate::gateway::clients::ClientFailures,
    /// Introspection clients read recently.
    pub known_clients: crate::gateway::clients::KnownClients,
    /// Sign-in attempts being counted in the store at once: at most `LOGIN_SLOTS`, so a flood of
    /// sign-ins never holds more than a few of the pool's connections.
    pub login_slots: Arc<tokio::sync::Semaphore>,
    /// Tokens' use, counted in memory between flushes.
    pub token_use: crate::tokens::usage::TokenUse,
    /// Anonymous leaked-token reports admitted recently, per address and in all.
    pub leak_reports: crate::admin::leaks::ReportLimiter,
    /// GitLab's reports, on a budget of their own: anonymous junk cannot crowd them out.
    pub gitlab_reports: crate::admin::leaks::ReportLimiter,
    /// Wakes the leaked-token intake's worker when a report is queued.
    leak_wake: Arc<tokio::sync::Notify>,
    /// Wrong guesses at the secrets set in the configuration (`PATIO_REVOCATION_TOKEN`,
    /// `PATIO_METRICS_TOKEN`), per address: 20 in 15 minutes, then 429.
    pub secret_guesses: crate::domain::limiter::Limiter<std::net::IpAddr>,
    /// What `/metrics` reports.
    pub metrics: crate::web::metrics::Metrics,
    /// How often each user may change their e-mail address and send test notices.
    pub notify_limits: crate::notify::service::NotifyLimits,
    /// Where mail goes; `None` when mail is off (SPEC §11).
    pub mailer: Option<Arc<crate::notify::mail::Mailer>>,
    /// Once a user exists one always does, so after the first yes nobody asks the database.
    set_up: Arc<AtomicBool>,
    /// The document around every page, for answers rendered outside the router (plain form
    /// posts). `server::router` sets it, so the pages that answer those posts need not import
    /// the app that routes to them.
    pub shell: fn(LeptosOptions) -> AnyView,
}

impl AppState {
    pub fn new(config: Config, store: Arc<Store>) -> AppState {
        AppState::with_clock(config, store, Arc::new(SystemClock))
    }

    pub fn with_clock(config: Config, store: Arc<Store>, clock: Arc<dyn Clock>) -> AppState {
        // A bad mail configuration stops `main` before it gets here (`Mailer::from_config`).
        let mailer = crate::notify::mail::Mailer::from_config(&config)
            .ok()
            .flatten()
            .map(Arc::new);
        AppState {
            mailer,
            config: Arc::new(config),
            store,
            clock,
            passwords: Passwords::for_this_machine(),
            client_failures: crate::gateway::clients::client_failures(),
            known_clients: Default::default(),
            leak_reports: Default::default(),
            gitlab_reports: Default::default(),
            leak_wake: Default::default(),
            secret_guesses: crate::domain::limiter::Limiter::new(20, chrono::Duration::minutes(15)),
            metrics: Default::default(),
            notify_limits: Default::default(),
            token_use: Default::default(),
            login_slots: Arc::new(tokio::sync::Semaphore::new(LOGIN_SLOTS)),
            set_up: Arc::new(AtomicBool::new(false)),
            shell: |_| unreachable_shell(),
        }
    }

    /// Whether first-run setup is done (any user exists).
    pub async fn is_set_up(&self) -> StoreResult<bool> {
        if self.set_up.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let set_up = self.store.has_users().await?;
        if set_up {
            self.mark_set_up();
        }
        Ok(set_up)
    }

    pub fn tokens(&self) -> crate::tokens::service::Tokens<'_, Store> {
        crate::tokens::service::Tokens::new(&self.store, &*self.clock)
    }

    pub fn accounts(&self) -> crate::accounts::service::Accounts<'_> {
        crate::accounts::service::Accounts::new(
            &self.store,
            &*self.clock,
            &self.passwords,
            &self.login_slots,
        )
    }

    pub fn events(&self) -> crate::events::service::Events<'_> {
        crate::events::service::Events::new(&self.store, &*self.clock)
    }

    pub fn clients(&self) -> crate::gateway::clients::Clients<'_> {
        crate::gateway::clients::Clients::new(
            &self.store,
            &*self.clock,
            &self.known_clients,
            &self.client_failures,
        )
    }

    pub fn notifications(&self) -> crate::notify::service::Notifications<'_> {
        crate::notify::service::Notifications::new(
            &self.store,
            &*self.clock,
            &self.config,
            self.mailer.as_deref(),
            &self.notify_limits,
        )
    }

    pub fn leak_intake(&self) -> crate::admin::leaks::Intake {
        crate::admin::leaks::Intake::new(
            self.store.clone(),
            self.clock.clone(),
            self.leak_wake.clone(),
        )
    }

    pub fn sender(&self) -> crate::notify::outbox::Sender {
        crate::notify::outbox::Sender::new(
            self.store.clone(),
            self.clock.clone(),
            self.config.clone(),
            self.mailer.clone(),
        )
    }

    /// Whether `client` may try a configured secret now: `Err` with the seconds to wait once
    /// it has guessed wrong too often.
    pub fn may_guess(&self, client: std::net::IpAddr) -> Result<(), u64> {
        let key = crate::domain::limiter::address_key(client);
        self.secret_guesses.check(&key, self.clock.now())
    }

    /// Counts a wrong guess at a configured secret from `client`.
    pub fn guessed_wrong(&self, client: std::net::IpAddr) {
        let key = crate::domain::limiter::address_key(client);
        self.secret_guesses.record(key, self.clock.now());
    }

    pub fn mark_set_up(&self) {
        self.set_up.store(true, Ordering::Relaxed);
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> LeptosOptions {
        state.config.leptos.clone()
    }
}

/// Until `server::router` gives the real shell: an empty document (no request reaches a
/// page before the router exists).
fn unreachable_shell() -> AnyView {
    leptos::prelude::IntoAny::into_any(())
}
