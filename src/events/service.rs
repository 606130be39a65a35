//! Reading a user's security log, and the events that record no change of their own: a refused
//! sign-in, a refused token.

use crate::db::StoreResult;
use crate::domain::events::{EventKind, Origin};
use crate::store::{EventRecord, NewEvent, Store};
use crate::time::Clock;
use crate::tokens::rules::RevokedReason;
use chrono::Duration;

/// Events are kept at least this long (SPEC §10: at least a year).
pub fn retention() -> Duration {
    Duration::days(400)
}

/// The most events one page lists.
pub const MAX_PAGE: i64 = 100;

/// One page of a user's log, newest first, and the id to ask for the next with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventPage {
    pub events: Vec<EventRecord>,
    pub next_before: Option<i64>,
}

/// What happened, in a sentence for the log's owner.
pub fn describe(event: &EventRecord) -> String {
    let token = event.token_name.as_deref().unwrap_or("(unnamed)");
    let detail = event.detail.as_deref().unwrap_or("");
    match event.kind {
        EventKind::SignedIn if detail == "access_token" => {
            "Signed in through the API's password grant (a one-hour access token).".into()
        }
        EventKind::SignedIn => "Signed in.".into(),
        EventKind::SignInFailed if detail == "current_password" => {
            "A wrong current password was entered while changing the password.".into()
        }
        EventKind::SignInFailed => "Someone tried to sign in as you with a wrong password.".into(),
        EventKind::SignedOut => "Signed out.".into(),
        EventKind::PasswordChanged => {
            "The password was changed; every other session was signed out.".into()
        }
        EventKind::TokenCreated => format!("Token ‘{token}’ was created."),
        EventKind::TokenEdited => format!("Token ‘{token}’ was edited."),
        EventKind::TokenRegenerated => {
            format!("Token ‘{token}’ was regenerated; its old secret stopped working.")
        }
        EventKind::TokenDeleted => format!("Token ‘{token}’ was deleted."),
        EventKind::TokenExpired => format!("Token ‘{token}’ expired."),
        EventKind::TokenRevoked => {
            let why = RevokedReason::parse(detail).map_or("", RevokedReason::describe);
            format!("Token ‘{token}’ was revoked {why}.")
        }
        EventKind::TokenUsedFromNewAddress => {
            let at = event.client_ip.as_deref().unwrap_or("an unknown address");
            format!("Token ‘{token}’ was used from a new address, {at}.")
        }
        EventKind::TokenRefused if detail == "insufficient_scope" => {
            format!("Token ‘{token}’ was refused: it is read-only and the request would write.")
        }
        EventKind::TokenRefused => format!(
            "Token ‘{token}’ was refused: the request came from an address its allowlist does \
             not include."
        ),
        EventKind::AccountDeactivated => "Your account was deactivated.".into(),
        EventKind::AccountReactivated => "Your account was reactivated.".into(),
        EventKind::RoleChanged if detail == "admin" => {
            "Your role was changed to administrator.".into()
        }
        EventKind::RoleChanged => "Your role was changed to user.".into(),
    }
}

/// Reading and writing the security log, with what that uses: the store and the clock.
#[derive(Clone, Copy)]
pub struct Events<'a> {
    store: &'a Store,
    clock: &'a dyn Clock,
}

impl<'a> Events<'a> {
    pub fn new(store: &'a Store, clock: &'a dyn Clock) -> Events<'a> {
        Events { store, clock }
    }

    /// At most `limit` (1–`MAX_PAGE`) of the user's events with ids below `before`, newest first.
    pub async fn page(
        &self,
        user_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<EventPage> {
        let limit = limit.clamp(1, MAX_PAGE);
        let mut events = self.store.events(user_id, before, limit + 1).await?;
        let more = events.len() as i64 > limit;
        events.truncate(limit as usize);
        let next_before = more.then(|| events.last().map(|event| event.id)).flatten();
        Ok(EventPage {
            events,
            next_before,
        })
    }

    /// Writes an event that records no change (a refusal). Its failure is the caller's to handle.
    pub async fn record(
        &self,
        user_id: i64,
        kind: EventKind,
        origin: &Origin,
        token: Option<(i64, &str)>,
        detail: Option<&str>,
    ) -> StoreResult<()> {
        let event = NewEvent {
            user_id,
            kind,
            at: self.clock.now(),
            origin,
            token,
            detail,
        };
        self.store.record_event(event).await
    }
}
