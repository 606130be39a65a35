//! `tokens::storage::TokenStore`, the storage the token use cases ask for, answered by the
//! methods of the tables that hold it (`tokens`, `token_use`, `usage`, `audit`'s policy,
//! `users`).

use super::Store;
use crate::db::StoreResult;
use crate::domain::accounts::{Account, Role};
use crate::domain::events::Origin;
use crate::tokens::policy::Policy;
use crate::tokens::rules::TokenError;
use crate::tokens::storage::{
    Change, KindCount, NewPat, NewRevocation, PatChange, PatCredential, PatRecord, Renewal,
    TokenActivity, TokenStore, UsageCount,
};
use chrono::{DateTime, Utc};

/// The token lifecycle's storage, answered by the tables' own methods.
impl TokenStore for Store {
    async fn policy(&self) -> StoreResult<Policy> {
        Store::policy(self).await
    }

    async fn role_of(&self, user_id: i64) -> StoreResult<Option<Role>> {
        Ok(self.user_by_id(user_id).await?.map(|user| user.role))
    }

    async fn create_pat(
        &self,
        pat: NewPat<'_>,
        now: DateTime<Utc>,
        limit: usize,
        origin: &Origin,
    ) -> StoreResult<Result<PatRecord, TokenError>> {
        Store::create_pat(self, pat, now, limit, origin).await
    }

    async fn list_pats(&self, user_id: i64) -> StoreResult<Vec<PatRecord>> {
        Store::list_pats(self, user_id).await
    }

    async fn pat_activity(&self, user_id: i64, since_day: i64) -> StoreResult<TokenActivity> {
        Store::pat_activity(self, user_id, since_day).await
    }

    async fn update_pat(
        &self,
        user_id: i64,
        id: i64,
        change: PatChange,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<Change<PatRecord>> {
        Store::update_pat(self, user_id, id, change, now, origin).await
    }

    async fn regenerate_pat(
        &self,
        user_id: i64,
        id: i64,
        renewal: Renewal,
        now: DateTime<Utc>,
        limit: usize,
        origin: &Origin,
    ) -> StoreResult<Change<PatRecord>> {
        Store::regenerate_pat(self, user_id, id, renewal, now, limit, origin).await
    }

    async fn revoke_pat(
        &self,
        id: i64,
        revocation: NewRevocation,
        origin: &Origin,
    ) -> StoreResult<bool> {
        Store::revoke_pat(self, id, revocation, origin).await
    }

    async fn delete_pat(
        &self,
        user_id: i64,
        id: i64,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<bool> {
        Store::delete_pat(self, user_id, id, now, origin).await
    }

    async fn pat(&self, digest: &str) -> StoreResult<Option<(PatCredential, Account)>> {
        Store::pat(self, digest).await
    }

    async fn touch_pat(
        &self,
        id: i64,
        now: DateTime<Utc>,
        unless_used_after: DateTime<Utc>,
    ) -> StoreResult<()> {
        Store::touch_pat(self, id, now, unless_used_after).await
    }

    async fn record_pat_address(
        &self,
        token_id: i64,
        ip: &str,
        at: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<()> {
        Store::record_pat_address(self, token_id, ip, at, origin).await
    }

    async fn add_pat_usage(&self, counts: &[UsageCount]) -> StoreResult<()> {
        Store::add_pat_usage(self, counts).await
    }

    async fn add_request_counts(&self, counts: &[KindCount]) -> StoreResult<()> {
        Store::add_request_counts(self, counts).await
    }
}
