use super::Store;
use crate::db::{query, retrying, Row, StoreError, StoreResult, Tx, WriteLock};
use crate::domain::accounts::UserRef;
use crate::domain::events::{EventKind, Origin};
use crate::store::events::{insert_event, token_event};
use crate::store::revocations::log_revocation;
use crate::time::{from_millis, to_millis};
use crate::tokens::allowlist::AllowList;
use crate::tokens::rules::{Access, RevokedReason, TokenError};
use crate::tokens::storage::{
    Change, NewPat, NewRevocation, PatChange, PatRecord, Renewal, Revocation,
};
use chrono::{DateTime, Utc};

impl Store {
    /// Inserts a token unless the user already has `limit` active tokens (`LimitReached`) or an
    /// active token with the same name (`DuplicateName`), as one atomic step.
    pub async fn create_pat(
        &self,
        pat: NewPat<'_>,
        now: DateTime<Utc>,
        limit: usize,
        origin: &Origin,
    ) -> StoreResult<Result<PatRecord, TokenError>> {
        let mut tx = self.pool.begin_write(WriteLock::User(pat.user_id)).await?;
        // A request authenticated just before its owner was deactivated must not leave
        // a token behind: the owner is checked again under the lock.
        let owner = query("SELECT active FROM users WHERE id = $1")
            .bind(pat.user_id)
            .fetch_optional(&mut tx)
            .await?;
        if !owner
            .map(|row| row.try_get::<bool>("active"))
            .transpose()?
            .unwrap_or(false)
        {
            tx.rollback().await?;
            return Err(StoreError::NotFound);
        }
        let row = query(
            "SELECT COUNT(*) AS active, \
               COALESCE(SUM(CASE WHEN name_key = $3 THEN 1 ELSE 0 END), 0) AS same_name \
             FROM personal_access_tokens \
             WHERE user_id = $1 AND expires_at > $2 AND revoked_at IS NULL",
        )
        .bind(pat.user_id)
        .bind(to_millis(now))
        .bind(pat.name.key())
        .fetch_one(&mut tx)
        .await?;
        // Refusals roll back before answering: a transaction merely dropped is rolled
        // back later, and SQLite's pool would discard the connection meanwhile.
        if row.try_get::<i64>("active")? >= limit as i64 {
            tx.rollback().await?;
            return Ok(Err(TokenError::LimitReached(limit)));
        }
        if row.try_get::<i64>("same_name")? > 0 {
            tx.rollback().await?;
            return Ok(Err(TokenError::DuplicateName(pat.name.as_str().to_owned())));
        }
        let row = query(
            "INSERT INTO personal_access_tokens \
               (user_id, name, name_key, description, digest, hint, created_at, expires_at, \
                access, allowed_ips) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(pat.user_id)
        .bind(pat.name.as_str())
        .bind(pat.name.key())
        .bind(pat.description.as_str())
        .bind(&pat.digest)
        .bind(&pat.hint)
        .bind(to_millis(now))
        .bind(to_millis(pat.expires_at))
        .bind(pat.access.as_str())
        .bind(pat.allowed_ips.to_column())
        .fetch_one(&mut tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        let event = token_event(
            pat.user_id,
            EventKind::TokenCreated,
            now,
            origin,
            (id, pat.name.as_str()),
        );
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(Ok(PatRecord {
            id,
            user_id: pat.user_id,
            name: pat.name.as_str().to_owned(),
            description: pat.description.as_str().to_owned(),
            hint: pat.hint,
            created_at: from_millis(to_millis(now)),
            issued_at: from_millis(to_millis(now)),
            expires_at: from_millis(to_millis(pat.expires_at)),
            last_used_at: None,
            access: pat.access,
            allowed_ips: pat.allowed_ips.clone(),
            revoked: None,
        }))
    }

    /// A user's tokens, active, expired and revoked, newest first.
    pub async fn list_pats(&self, user_id: i64) -> StoreResult<Vec<PatRecord>> {
        let rows =
            query("SELECT * FROM token_list WHERE user_id = $1 ORDER BY created_at DESC, id DESC")
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.iter().map(pat_from_row).collect::<sqlx::Result<_>>()?)
    }

    /// Changes one of a user's tokens (`NotFound` when there is no such token of theirs); a new
    /// name must stay unique among the user's active tokens (`Refused(DuplicateName)`).
    pub async fn update_pat(
        &self,
        user_id: i64,
        id: i64,
        change: PatChange,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<Change<PatRecord>> {
        let mut tx = self.pool.begin_write(WriteLock::User(user_id)).await?;
        let Some(mut token) = pat_of_user(&mut tx, user_id, id).await? else {
            tx.rollback().await?;
            return Ok(Change::NotFound);
        };
        if let Some(name) = &change.name {
            let row = query(
                "SELECT COUNT(*) AS n FROM personal_access_tokens \
                 WHERE user_id = $1 AND id <> $2 AND name_key = $3 \
                   AND expires_at > $4 AND revoked_at IS NULL",
            )
            .bind(user_id)
            .bind(id)
            .bind(name.key())
            .bind(to_millis(now))
            .fetch_one(&mut tx)
            .await?;
            let active = token.revoked.is_none() && token.expires_at > now;
            if active && row.try_get::<i64>("n")? > 0 {
                tx.rollback().await?;
                return Ok(Change::Refused(TokenError::DuplicateName(
                    name.as_str().to_owned(),
                )));
            }
            token.name = name.as_str().to_owned();
        }
        if let Some(description) = &change.description {
            token.description = description.as_str().to_owned();
        }
        token.access = change.access.unwrap_or(token.access);
        if let Some(allowed_ips) = change.allowed_ips {
            token.allowed_ips = allowed_ips;
        }
        query(
            "UPDATE personal_access_tokens \
             SET name = $1, name_key = $2, description = $3, access = $4, allowed_ips = $5 \
             WHERE id = $6",
        )
        .bind(&token.name)
        .bind(token.name.to_lowercase())
        .bind(&token.description)
        .bind(token.access.as_str())
        .bind(token.allowed_ips.to_column())
        .bind(id)
        .execute(&mut tx)
        .await?;
        let event = token_event(
            user_id,
            EventKind::TokenEdited,
            now,
            origin,
            (id, &token.name),
        );
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(Change::Done(token))
    }

    /// Gives one of a user's tokens a new secret and expiration, as one atomic step: the old
    /// secret stops working when this commits. Refused for a token revoked for a reason that
    /// allows no regeneration (`Token(NotRegenerable)`); a token that is not active (expired,
    /// or revoked as unused) comes back only within `limit` and with a name no active token
    /// has. `None` when the user has no such token.
    pub async fn regenerate_pat(
        &self,
        user_id: i64,
        id: i64,
        renewal: Renewal,
        now: DateTime<Utc>,
        limit: usize,
        origin: &Origin,
    ) -> StoreResult<Change<PatRecord>> {
        retrying(|| self.regenerate_pat_once(user_id, id, &renewal, now, limit, origin)).await
    }

    async fn regenerate_pat_once(
        &self,
        user_id: i64,
        id: i64,
        renewal: &Renewal,
        now: DateTime<Utc>,
        limit: usize,
        origin: &Origin,
    ) -> StoreResult<Change<PatRecord>> {
        let mut tx = self.pool.begin_write(WriteLock::User(user_id)).await?;
        let Some(mut token) = pat_of_user(&mut tx, user_id, id).await? else {
            tx.rollback().await?;
            return Ok(Change::NotFound);
        };
        if let Some(revocation) = &token.revoked {
            if !revocation.reason.allows_regeneration() {
                tx.rollback().await?;
                return Ok(Change::Refused(TokenError::NotRegenerable(
                    revocation.reason,
                )));
            }
        }
        let active = token.revoked.is_none() && token.expires_at > now;
        if !active {
            // Coming back to life: within the limit, under a name no active token has.
            let row = query(
                "SELECT COUNT(*) AS active, \
                   COALESCE(SUM(CASE WHEN name_key = $3 THEN 1 ELSE 0 END), 0) AS same_name \
                 FROM personal_access_tokens \
                 WHERE user_id = $1 AND expires_at > $2 AND revoked_at IS NULL AND id <> $4",
            )
            .bind(user_id)
            .bind(to_millis(now))
            .bind(token.name.to_lowercase())
            .bind(id)
            .fetch_one(&mut tx)
            .await?;
            let refusal = if row.try_get::<i64>("active")? >= limit as i64 {
                Some(TokenError::LimitReached(limit))
            } else if row.try_get::<i64>("same_name")? > 0 {
                Some(TokenError::DuplicateName(token.name.clone()))
            } else {
                None
            };
            if let Some(refusal) = refusal {
                tx.rollback().await?;
                return Ok(Change::Refused(refusal));
            }
        }
        query(
            "UPDATE personal_access_tokens \
             SET digest = $1, hint = $2, expires_at = $3, issued_at = $4, \
                 revoked_at = NULL, revoked_by = NULL, revoked_reason = NULL, \
                 expiry_logged = FALSE \
             WHERE id = $5",
        )
        .bind(&renewal.digest)
        .bind(&renewal.hint)
        .bind(to_millis(renewal.expires_at))
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut tx)
        .await?;
        let event = token_event(
            user_id,
            EventKind::TokenRegenerated,
            now,
            origin,
            (id, &token.name),
        );
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        token.hint = renewal.hint.clone();
        token.expires_at = from_millis(to_millis(renewal.expires_at));
        token.issued_at = from_millis(to_millis(now));
        token.revoked = None;
        Ok(Change::Done(token))
    }

    /// Revokes one token unless it is already revoked; whether it was revoked now.
    pub async fn revoke_pat(
        &self,
        id: i64,
        revocation: NewRevocation,
        origin: &Origin,
    ) -> StoreResult<bool> {
        let owner = query("SELECT user_id FROM personal_access_tokens WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(owner) = owner.map(|row| row.try_get::<i64>("user_id")).transpose()? else {
            return Ok(false);
        };
        retrying(|| async {
            let mut tx = self.pool.begin_write(WriteLock::User(owner)).await?;
            let row = query(
                "UPDATE personal_access_tokens \
                 SET revoked_at = $1, revoked_by = $2, revoked_reason = $3 \
                 WHERE id = $4 AND user_id = $5 AND revoked_at IS NULL \
                 RETURNING id, user_id, name, hint",
            )
            .bind(to_millis(revocation.at))
            .bind(revocation.by)
            .bind(revocation.reason.as_str())
            .bind(id)
            .bind(owner)
            .fetch_optional(&mut tx)
            .await?;
            let Some(row) = row else {
                tx.rollback().await?;
                return Ok(false);
            };
            log_revocation(&mut tx, &row, revocation, origin).await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    /// Whether a token of this user was deleted.
    pub async fn delete_pat(
        &self,
        user_id: i64,
        id: i64,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<bool> {
        retrying(|| async {
            let mut tx = self.pool.begin_write(WriteLock::User(user_id)).await?;
            let deleted = query(
                "DELETE FROM personal_access_tokens WHERE id = $1 AND user_id = $2 \
                 RETURNING name",
            )
            .bind(id)
            .bind(user_id)
            .fetch_optional(&mut tx)
            .await?;
            let Some(row) = deleted else {
                tx.rollback().await?;
                return Ok(false);
            };
            let name: String = row.try_get("name")?;
            let event = token_event(user_id, EventKind::TokenDeleted, now, origin, (id, &name));
            insert_event(&mut tx, event).await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }
}

pub(super) fn pat_from_row(row: &Row) -> sqlx::Result<PatRecord> {
    Ok(PatRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        hint: row.try_get("hint")?,
        created_at: from_millis(row.try_get("created_at")?),
        issued_at: from_millis(row.try_get("issued_at")?),
        expires_at: from_millis(row.try_get("expires_at")?),
        last_used_at: last_used_from_row(row)?,
        access: access_from_row(row)?,
        allowed_ips: AllowList::from_column(row.try_get("allowed_ips")?),
        revoked: revocation_from_row(row)?,
    })
}

pub(super) fn access_from_row(row: &Row) -> sqlx::Result<Access> {
    Ok(Access::parse(row.try_get("access")?).unwrap_or(Access::Read))
}

fn revocation_from_row(row: &Row) -> sqlx::Result<Option<Revocation>> {
    let Some(at) = row.try_get::<Option<i64>>("revoked_at")? else {
        return Ok(None);
    };
    let by_id: Option<i64> = row.try_get("revoked_by")?;
    let by_name: Option<String> = row.try_get("revoked_by_username")?;
    let reason: Option<String> = row.try_get("revoked_reason")?;
    Ok(Some(Revocation {
        at: from_millis(at),
        by: by_id
            .zip(by_name)
            .map(|(id, username)| UserRef { id, username }),
        reason: reason
            .as_deref()
            .and_then(RevokedReason::parse)
            .unwrap_or(RevokedReason::Admin),
    }))
}

pub(super) fn last_used_from_row(row: &Row) -> sqlx::Result<Option<DateTime<Utc>>> {
    Ok(row.try_get::<Option<i64>>("last_used_at")?.map(from_millis))
}

/// One of a user's tokens.
async fn pat_of_user(conn: &mut Tx, user_id: i64, id: i64) -> StoreResult<Option<PatRecord>> {
    let row = query("SELECT * FROM token_list WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(pat_from_row).transpose()?)
}
