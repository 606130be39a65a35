//! Who is calling (SPEC §1, §5). One resolution for every route: a Bearer header (an access
//! token or a PAT) or else the session cookie. Bearer requests never read cookies. The caller's
//! role and active flag are read fresh on every request, so changes apply at once. A PAT is
//! found, and its use recorded, by `tokens::authenticate`; sessions by `accounts::sessions`.

use crate::accounts::sessions;
use crate::db::StoreError;
use crate::domain::accounts::Account;
use crate::domain::events::{EventKind, Origin};
use crate::tokens::allowlist::AllowList;
use crate::tokens::authenticate::{self, log_failed_write};
use crate::tokens::rules::Access;
use crate::tokens::secret;
use crate::web::state::AppState;
use chrono::{DateTime, Utc};
use http::header::{HeaderMap, AUTHORIZATION};
use std::net::{IpAddr, Ipv4Addr};

#[derive(Clone, Debug)]
pub struct Principal {
    pub user: Account,
    pub credential: Credential,
}

#[derive(Clone, Debug)]
pub enum Credential {
    /// The digest of the session id, so the session can be ended or kept.
    Session {
        digest: String,
    },
    AccessToken {
        expires_at: DateTime<Utc>,
    },
    Pat {
        id: i64,
        name: String,
        /// When its current secret was issued.
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        access: Access,
        allowed_ips: AllowList,
        /// As read when the request came in, to decide whether to record this use.
        last_used_at: Option<DateTime<Utc>>,
    },
}

impl Credential {
    /// How the caller authenticated, as the API reports it.
    pub fn kind(&self) -> &'static str {
        match self {
            Credential::Session { .. } => "session",
            Credential::AccessToken { .. } => "access_token",
            Credential::Pat { .. } => "pat",
        }
    }

    /// What the credential may do: only a PAT can be limited to reading.
    pub fn access(&self) -> Access {
        match self {
            Credential::Pat { access, .. } => *access,
            _ => Access::ReadWrite,
        }
    }

    /// The PAT's id, when the credential is one.
    pub fn token_id(&self) -> Option<i64> {
        match self {
            Credential::Pat { id, .. } => Some(*id),
            _ => None,
        }
    }
}

/// Why a valid credential may not make this request (SPEC §12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UseRefused {
    #[error("This token is read-only: it can only read (GET, HEAD and OPTIONS requests).")]
    InsufficientScope,
    #[error(
        "This token cannot be used from your address ({0}); its allowlist does not include it."
    )]
    AddressNotAllowed(IpAddr),
}

impl Principal {
    /// Who the caller is, as pages and the API show them.
    pub fn me(&self) -> crate::domain::accounts::Me {
        crate::domain::accounts::Me {
            id: self.user.id,
            username: self.user.username.clone(),
            display_name: self.user.display_name.clone(),
            role: self.user.role,
        }
    }

    /// Whether the credential's access level and allowlist let it make a request with
    /// `method` from `client`; when they do, a PAT's use is recorded (SPEC §3 last used, at
    /// most once a minute), so a refused request never counts as one.
    /// A refusal is logged in the owner's security log (best-effort, at most once a minute per
    /// token and address).
    pub async fn check_use(
        &self,
        state: &AppState,
        method: &str,
        origin: &Origin,
    ) -> Result<(), UseRefused> {
        let client = origin.client.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let refused = match &self.credential {
            Credential::Pat { allowed_ips, .. } if !allowed_ips.permits(client) => {
                Some(UseRefused::AddressNotAllowed(client))
            }
            credential if !credential.access().permits(method) => {
                Some(UseRefused::InsufficientScope)
            }
            _ => None,
        };
        let kind = self.credential.kind();
        match refused {
            Some(refused) => {
                state.metrics.authenticated(kind, "refused");
                self.log_refusal(state, refused, client, origin).await;
                Err(refused)
            }
            None => {
                state.metrics.authenticated(kind, "ok");
                state.token_use.count_kind(kind, state.clock.now());
                self.record_use(state, origin).await;
                Ok(())
            }
        }
    }

    async fn log_refusal(
        &self,
        state: &AppState,
        refused: UseRefused,
        client: IpAddr,
        origin: &Origin,
    ) {
        let Credential::Pat { id, name, .. } = &self.credential else {
            return;
        };
        if !state.token_use.refusal_due(*id, client, state.clock.now()) {
            return;
        }
        let detail = match refused {
            UseRefused::InsufficientScope => "insufficient_scope",
            UseRefused::AddressNotAllowed(_) => "address_not_allowed",
        };
        let kind = EventKind::TokenRefused;
        let token = Some((*id, name.as_str()));
        let logged = state
            .events()
            .record(self.user.id, kind, origin, token, Some(detail))
            .await;
        log_failed_write(logged);
    }

    /// Records a PAT's use (SPEC §10; `tokens::authenticate`); other credentials keep none.
    pub async fn record_use(&self, state: &AppState, origin: &Origin) {
        if let Credential::Pat {
            id, last_used_at, ..
        } = &self.credential
        {
            let used = authenticate::Use {
                token_id: *id,
                last_used_at: *last_used_at,
                origin,
            };
            authenticate::record_use(
                state.store.as_ref(),
                &state.token_use,
                state.clock.now(),
                used,
            )
            .await;
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthFailure {
    /// A Bearer credential that is malformed, unknown, expired, deleted, or whose owner is
    /// deactivated.
    #[error("invalid token")]
    InvalidToken,
    #[error(transparent)]
    Unavailable(#[from] StoreError),
}

/// The caller of a request: `Ok(None)` when no credential was sent (or the session cookie is
/// no longer valid, which is the same as being signed out).
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Principal>, AuthFailure> {
    let mut authorization = headers.get_all(AUTHORIZATION).iter();
    if let Some(value) = authorization.next() {
        // Two Authorization headers are ambiguous: refuse rather than pick one.
        if authorization.next().is_some() {
            return Err(AuthFailure::InvalidToken);
        }
        let token = value
            .to_str()
            .ok()
            .and_then(bearer_token)
            .ok_or(AuthFailure::InvalidToken)?;
        return with_token(state, token).await.map(Some);
    }
    match sessions::id_from(headers) {
        Some(id) => session(state, id).await,
        None => Ok(None),
    }
}

/// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The caller a PAT or access token stands for. A token that stands for no one is counted for
/// `/metrics`.
pub async fn with_token(state: &AppState, token: &str) -> Result<Principal, AuthFailure> {
    let found = resolve_token(state, token).await;
    if matches!(found, Err(AuthFailure::InvalidToken)) {
        state.metrics.authenticated("bearer", "invalid");
    }
    found
}

async fn resolve_token(state: &AppState, token: &str) -> Result<Principal, AuthFailure> {
    let now = state.clock.now();
    if secret::is_well_formed_pat(token) {
        let (pat, user) = authenticate::find(state.store.as_ref(), now, token)
            .await?
            .ok_or(AuthFailure::InvalidToken)?;
        let credential = Credential::Pat {
            last_used_at: pat.last_used_at,
            id: pat.id,
            name: pat.name,
            issued_at: pat.issued_at,
            expires_at: pat.expires_at,
            access: pat.access,
            allowed_ips: pat.allowed_ips,
        };
        return Ok(Principal { user, credential });
    }
    if secret::is_well_formed_access_token(token) {
        let (expires_at, user) = state
            .store
            .access_token(&secret::digest(token))
            .await?
            .ok_or(AuthFailure::InvalidToken)?;
        if expires_at <= now || !user.active {
            return Err(AuthFailure::InvalidToken);
        }
        return Ok(Principal {
            user,
            credential: Credential::AccessToken { expires_at },
        });
    }
    // Wrong prefix, length, alphabet or checksum: refused without a database query.
    Err(AuthFailure::InvalidToken)
}

/// The signed-in user of a session id; `None` when it has ended.
pub async fn session(state: &AppState, id: &str) -> Result<Option<Principal>, AuthFailure> {
    let digest = secret::digest(id);
    let Some((session, user)) = state.store.session(&digest).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    if !user.active || !sessions::is_live(session.created_at, session.last_seen_at, now) {
        state.store.delete_session(&digest).await?;
        return Ok(None);
    }
    if session.last_seen_at <= now - authenticate::touch_interval() {
        log_failed_write(state.store.touch_session(&digest, now).await);
    }
    Ok(Some(Principal {
        user,
        credential: Credential::Session { digest },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_values_are_parsed_strictly() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer   abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token(""), None);
    }
}
