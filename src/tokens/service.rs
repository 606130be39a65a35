//! The token lifecycle, with no HTTP in it: generate, list, delete. The Tokens page's server
//! functions and the REST API both call these; authentication (using a token) lives in
//! `accounts::principal`.

use super::rules::{ExpirationRequest, TokenDescription, TokenName, MAX_ACTIVE_TOKENS};
use super::secret::{self, Secret};
use crate::server::AppState;
use crate::store::{NewPat, PatRecord, StoreError, StoreResult};

/// What a user asks for when generating a token, as typed.
pub struct GenerateRequest<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub expiration: ExpirationRequest,
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
    let name = TokenName::parse(request.name).map_err(StoreError::Token)?;
    let description = TokenDescription::parse(request.description).map_err(StoreError::Token)?;
    let expires_at = request.expiration.resolve(now).map_err(StoreError::Token)?;
    let secret = secret::new_pat();
    let new = NewPat {
        user_id,
        name: &name,
        description: &description,
        digest: secret.digest(),
        hint: secret.hint(),
        expires_at,
    };
    let token = state.store.create_pat(new, now, MAX_ACTIVE_TOKENS).await?;
    tracing::info!(user_id, token_id = token.id, hint = %token.hint, "token generated");
    Ok(Generated { token, secret })
}

/// The user's tokens, active and expired, newest first.
pub async fn list(state: &AppState, user_id: i64) -> StoreResult<Vec<PatRecord>> {
    state.store.list_pats(user_id).await
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
