//! The token lifecycle, with no HTTP in it: generate, list, edit, revoke, delete. The Tokens
//! page's server functions and the REST API both call these; authenticating with a token is
//! `tokens::authenticate`.

use crate::db::StoreError;
use crate::domain::accounts::Role;
use crate::domain::events::Origin;
use crate::domain::problem::{Answer, Kind, Problem};
use crate::time::Clock;
use crate::tokens::allowlist::AllowList;
use crate::tokens::policy::{Policy, TokenCreators};
use crate::tokens::rules::{
    renewed_expiry, Access, ExpirationRequest, RevokedReason, TokenDescription, TokenError,
    TokenName,
};
use crate::tokens::secret::{self, Secret};
use crate::tokens::storage::{
    Change, NewPat, NewRevocation, PatChange, PatRecord, Renewal, SeenAddress, TokenStore,
};
use crate::tokens::usage;
use chrono::NaiveDate;

/// Why a step of a token's life did not happen.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// A rule refused it (SPEC §3): the request is the caller's to correct.
    #[error(transparent)]
    Refused(#[from] TokenError),
    /// No such token of this user's (or, to an administrator, no such live token).
    #[error("That no longer exists.")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Problem for LifecycleError {
    fn answer(&self) -> Answer {
        match self {
            LifecycleError::Refused(refusal) => refusal.answer(),
            LifecycleError::NotFound => Answer::new(Kind::NotFound, "not_found", self.to_string()),
            LifecycleError::Store(store) => store.answer(),
        }
    }
}

impl Change<PatRecord> {
    fn done(self) -> Result<PatRecord, LifecycleError> {
        match self {
            Change::Done(token) => Ok(token),
            Change::NotFound => Err(LifecycleError::NotFound),
            Change::Refused(refusal) => Err(refusal.into()),
        }
    }
}

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
    pub token: TokenSummary,
    pub secret: Secret,
}

/// A token as its owner sees it: the token, where it was used (newest first) and its requests
/// on each of the last 30 UTC days (oldest first). The page and the API both show this.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSummary {
    pub token: PatRecord,
    pub addresses: Vec<SeenAddress>,
    pub usage: Vec<(NaiveDate, i64)>,
}

/// Changes to a token's name, description, access or allowlist, as typed; `None` keeps it.
#[derive(Default)]
pub struct EditRequest<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub access: Option<Access>,
    pub allowed_ips: Option<Vec<&'a str>>,
}

/// The token use cases, with what they use: the tokens' storage and the clock.
pub struct Tokens<'a, S> {
    store: &'a S,
    clock: &'a dyn Clock,
}

impl<'a, S: TokenStore> Tokens<'a, S> {
    pub fn new(store: &'a S, clock: &'a dyn Clock) -> Tokens<'a, S> {
        Tokens { store, clock }
    }

    /// The policy, when it lets this user issue a secret (generate or regenerate).
    async fn may_issue(&self, user_id: i64) -> Result<Policy, LifecycleError> {
        let policy = self.store.policy().await?;
        if policy.token_creators == TokenCreators::Admins
            && self.store.role_of(user_id).await? != Some(Role::Admin)
        {
            return Err(TokenError::CreationRestricted.into());
        }
        Ok(policy)
    }

    /// Validates the request and stores the new token, unless the user has reached the limit or
    /// already has an active token of that name (a refusal by a rule is `LifecycleError::Refused`).
    pub async fn generate(
        &self,
        user_id: i64,
        request: GenerateRequest<'_>,
        origin: &Origin,
    ) -> Result<Generated, LifecycleError> {
        let now = self.clock.now();
        let policy = self.may_issue(user_id).await?;
        let name = TokenName::parse(request.name)?;
        let description = TokenDescription::parse(request.description)?;
        let expires_at = request
            .expiration
            .resolve_within(now, policy.max_lifetime_days)?;
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
        let token = self
            .store
            .create_pat(new, now, policy.max_active_tokens, origin)
            .await??;
        tracing::info!(user_id, token_id = token.id, hint = %token.hint, "token generated");
        let token = TokenSummary {
            token,
            addresses: Vec::new(),
            usage: usage::last_days(&[], now),
        };
        Ok(Generated { token, secret })
    }

    /// The user's tokens, active, expired and revoked, newest first, with their use.
    pub async fn list(&self, user_id: i64) -> Result<Vec<TokenSummary>, LifecycleError> {
        let now = self.clock.now();
        let tokens = self.store.list_pats(user_id).await?;
        let since = usage::day_number(now) - usage::USAGE_DAYS;
        let mut activity = self.store.pat_activity(user_id, since).await?;
        Ok(tokens
            .into_iter()
            .map(|token| TokenSummary {
                addresses: activity.addresses.remove(&token.id).unwrap_or_default(),
                usage: usage::last_days(
                    activity.usage.get(&token.id).map_or(&[], Vec::as_slice),
                    now,
                ),
                token,
            })
            .collect())
    }

    /// One of the user's own tokens, with its use; `NotFound` for anyone else's.
    pub async fn get(&self, user_id: i64, token_id: i64) -> Result<TokenSummary, LifecycleError> {
        self.list(user_id)
            .await?
            .into_iter()
            .find(|summary| summary.token.id == token_id)
            .ok_or(LifecycleError::NotFound)
    }

    /// A token just changed, with the use it has had.
    async fn summarize(&self, token: PatRecord) -> Result<TokenSummary, LifecycleError> {
        let mut summary = self.get(token.user_id, token.id).await?;
        summary.token = token;
        Ok(summary)
    }

    /// Gives one of the user's tokens a new secret (SPEC §10): name, description, access,
    /// allowlist and id stay; the old secret is refused from the next request on, on every
    /// instance. The expiration is the one asked for, or else the lifetime the token had.
    pub async fn regenerate(
        &self,
        user_id: i64,
        token_id: i64,
        expiration: Option<ExpirationRequest>,
        origin: &Origin,
    ) -> Result<Generated, LifecycleError> {
        let now = self.clock.now();
        // A new secret and a new expiration are a new credential: with creation left to
        // administrators, others can neither extend nor revive their tokens.
        let policy = self.may_issue(user_id).await?;
        let max_days = policy.max_lifetime_days;
        let current = self.get(user_id, token_id).await?.token;
        let expires_at = match expiration {
            Some(request) => request.resolve_within(now, max_days)?,
            None => renewed_expiry(current.issued_at, current.expires_at, now, max_days),
        };
        let secret = secret::new_pat();
        let renewal = Renewal {
            digest: secret.digest(),
            hint: secret.hint(),
            expires_at,
        };
        let token = self
            .store
            .regenerate_pat(
                user_id,
                token_id,
                renewal,
                now,
                policy.max_active_tokens,
                origin,
            )
            .await?
            .done()?;
        tracing::info!(user_id, token_id, hint = %token.hint, "token regenerated");
        Ok(Generated {
            token: self.summarize(token).await?,
            secret,
        })
    }

    /// Edits one of the user's own tokens (§3 rules; names stay unique among active ones);
    /// `NotFound` for anyone else's.
    pub async fn edit(
        &self,
        user_id: i64,
        token_id: i64,
        request: EditRequest<'_>,
        origin: &Origin,
    ) -> Result<TokenSummary, LifecycleError> {
        let change = PatChange {
            name: request.name.map(TokenName::parse).transpose()?,
            description: request
                .description
                .map(TokenDescription::parse)
                .transpose()?,
            access: request.access,
            allowed_ips: request.allowed_ips.map(AllowList::parse).transpose()?,
        };
        let token = self
            .store
            .update_pat(user_id, token_id, change, self.clock.now(), origin)
            .await?
            .done()?;
        tracing::info!(user_id, token_id, "token edited");
        self.summarize(token).await
    }

    /// An administrator revokes any user's token; it stays listed, as revoked, for its owner.
    /// `NotFound` when there is no such token or it is already revoked.
    pub async fn revoke(
        &self,
        admin_id: i64,
        token_id: i64,
        origin: &Origin,
    ) -> Result<(), LifecycleError> {
        let revocation = NewRevocation {
            at: self.clock.now(),
            by: Some(admin_id),
            reason: RevokedReason::Admin,
        };
        if self.store.revoke_pat(token_id, revocation, origin).await? {
            tracing::info!(admin_id, token_id, "token revoked by an administrator");
            Ok(())
        } else {
            Err(LifecycleError::NotFound)
        }
    }

    /// Deletes one of the user's own tokens; `NotFound` for anyone else's (without saying it exists).
    pub async fn delete(
        &self,
        user_id: i64,
        token_id: i64,
        origin: &Origin,
    ) -> Result<(), LifecycleError> {
        let now = self.clock.now();
        if self
            .store
            .delete_pat(user_id, token_id, now, origin)
            .await?
        {
            tracing::info!(user_id, token_id, "token deleted");
            Ok(())
        } else {
            Err(LifecycleError::NotFound)
        }
    }
}
