//! The token lifecycle, with no HTTP in it: generate, list, edit, revoke, delete. The Tokens
//! page's server functions and the REST API both call these; authentication (using a token)
//! lives in `accounts::principal`.

use super::allowlist::AllowList;
use super::rules::{
    renewed_expiry, Access, ExpirationRequest, RevokedReason, TokenDescription, TokenName,
    MAX_ACTIVE_TOKENS,
};
use super::secret::{self, Secret};
use crate::server::AppState;
use crate::store::{NewPat, NewRevocation, PatChange, PatRecord, Renewal, StoreError, StoreResult};

/// What a user asks for when generating a token, as typed.
pub struct GenerateRequest<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub expiration: ExpirationRequest,
    pub access: Access,
    pub allowed_ips: Vec<&'a str>,
}

/// A new token and its secret: the only time the secret exists outside the caller's hands.
pub struct Generated {
    pub token: PatRecord,
    pub secret: Secret,
}

/// Validates the request and stores the new token, unless the user has reached the limit or
/// already has an active token of that name (rule failures come back as `StoreError::Token`).
pub async fn generate(
    state: &AppState,
    user_id: i64,
    request: GenerateRequest<'_>,
) -> StoreResult<Generated> {
    let now = state.clock.now();
    let name = TokenName::parse(request.name)?;
    let description = TokenDescription::parse(request.description)?;
    let expires_at = request.expiration.resolve(now)?;
    let allowed_ips = AllowList::parse(request.allowed_ips)?;
    let secret = secret::new_pat();
    let new = NewPat {
        user_id,
        name: &name,
        description: &description,
        digest: secret.digest(),
        hint: secret.hint(),
        expires_at,
        access: request.access,
        allowed_ips: &allowed_ips,
    };
    let token = state.store.create_pat(new, now, MAX_ACTIVE_TOKENS).await?;
    tracing::info!(user_id, token_id = token.id, hint = %token.hint, "token generated");
    Ok(Generated { token, secret })
}

/// The user's tokens, active, expired and revoked, newest first.
pub async fn list(state: &AppState, user_id: i64) -> StoreResult<Vec<PatRecord>> {
    state.store.list_pats(user_id).await
}

/// One of the user's own tokens; `NotFound` for anyone else's.
pub async fn get(state: &AppState, user_id: i64, token_id: i64) -> StoreResult<PatRecord> {
    list(state, user_id)
        .await?
        .into_iter()
        .find(|token| token.id == token_id)
        .ok_or(StoreError::NotFound)
}

/// Gives one of the user's tokens a new secret (SPEC §10): name, description, access,
/// allowlist and id stay; the old secret is refused from the next request on, on every
/// instance. The expiration is the one asked for, or else the lifetime the token had.
pub async fn regenerate(
    state: &AppState,
    user_id: i64,
    token_id: i64,
    expiration: Option<ExpirationRequest>,
) -> StoreResult<Generated> {
    let now = state.clock.now();
    let current = get(state, user_id, token_id).await?;
    let expires_at = match expiration {
        Some(request) => request.resolve(now)?,
        None => renewed_expiry(current.issued_at, current.expires_at, now),
    };
    let secret = secret::new_pat();
    let renewal = Renewal {
        digest: secret.digest(),
        hint: secret.hint(),
        expires_at,
    };
    let token = state
        .store
        .regenerate_pat(user_id, token_id, renewal, now, MAX_ACTIVE_TOKENS)
        .await?
        .ok_or(StoreError::NotFound)?;
    tracing::info!(user_id, token_id, hint = %token.hint, "token regenerated");
    Ok(Generated { token, secret })
}

/// Changes to a token's name, description, access or allowlist, as typed; `None` keeps it.
#[derive(Default)]
pub struct EditRequest<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub access: Option<Access>,
    pub allowed_ips: Option<Vec<&'a str>>,
}

/// Edits one of the user's own tokens (§3 rules; names stay unique among active ones);
/// `NotFound` for anyone else's.
pub async fn edit(
    state: &AppState,
    user_id: i64,
    token_id: i64,
    request: EditRequest<'_>,
) -> StoreResult<PatRecord> {
    let change = PatChange {
        name: request.name.map(TokenName::parse).transpose()?,
        description: request
            .description
            .map(TokenDescription::parse)
            .transpose()?,
        access: request.access,
        allowed_ips: request.allowed_ips.map(AllowList::parse).transpose()?,
    };
    let token = state
        .store
        .update_pat(user_id, token_id, change, state.clock.now())
        .await?
        .ok_or(StoreError::NotFound)?;
    tracing::info!(user_id, token_id, "token edited");
    Ok(token)
}

/// An administrator revokes any user's token; it stays listed, as revoked, for its owner.
/// `NotFound` when there is no such token or it is already revoked.
pub async fn revoke(state: &AppState, admin_id: i64, token_id: i64) -> StoreResult<()> {
    let revocation = NewRevocation {
        at: state.clock.now(),
        by: Some(admin_id),
        reason: RevokedReason::Admin,
    };
    if state.store.revoke_pat(token_id, revocation).await? {
        tracing::info!(admin_id, token_id, "token revoked by an administrator");
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Deletes one of the user's own tokens; `NotFound` for anyone else's (without saying it exists).
pub async fn delete(state: &AppState, user_id: i64, token_id: i64) -> StoreResult<()> {
    if state.store.delete_pat(user_id, token_id).await? {
        tracing::info!(user_id, token_id, "token deleted");
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}
