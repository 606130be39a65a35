use super::Store;
use crate::db::{query, query_with_list, retrying, Row, StoreResult, Tx, WriteLock};
use crate::domain::audit::AuditAction;
use crate::domain::events::{EventKind, Origin};
use crate::store::audit::{insert_audit, NewAudit};
use crate::store::events::{insert_event, token_event};
use crate::time::to_millis;
use crate::tokens::rules::RevokedReason;
use crate::tokens::storage::NewRevocation;
use chrono::{DateTime, Utc};

/// A token just revoked, for the log (and, later, its owner's notifications).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedPat {
    pub id: i64,
    pub user_id: i64,
    pub hint: String,
}

impl Store {
    /// The live tokens (neither revoked nor expired) among these digests, as (token, owner):
    /// one read for a whole report, which takes no write lock.
    pub async fn live_pats_by_digest(
        &self,
        digests: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(i64, i64)>> {
        let mut live = Vec::new();
        // Within both backends' limits on parameters per statement.
        for batch in digests.chunks(1000) {
            let mut lookup = query_with_list(
                "SELECT id, user_id FROM personal_access_tokens \
                 WHERE revoked_at IS NULL AND expires_at > $1 AND digest IN (",
                2,
                batch.len(),
                ")",
            )
            .bind(to_millis(now));
            for digest in batch {
                lookup = lookup.bind(digest);
            }
            for row in lookup.fetch_all(&self.pool).await? {
                live.push((row.try_get("id")?, row.try_get("user_id")?));
            }
        }
        Ok(live)
    }

    /// Revokes those of one user's tokens that are still live, under the user's lock like every
    /// write to a user's tokens (one lock order, so no deadlock with a regeneration); which.
    pub async fn revoke_leaked_pats(
        &self,
        user_id: i64,
        token_ids: &[i64],
        revocation: NewRevocation,
        origin: &Origin,
    ) -> StoreResult<Vec<RevokedPat>> {
        retrying(|| async {
            let mut tx = self.pool.begin_write(WriteLock::User(user_id)).await?;
            let mut revoked = Vec::new();
            for id in token_ids {
                let row = query(
                    "UPDATE personal_access_tokens \
                     SET revoked_at = $1, revoked_by = $2, revoked_reason = $3 \
                     WHERE id = $4 AND user_id = $5 AND revoked_at IS NULL AND expires_at > $1 \
                     RETURNING id, user_id, name, hint",
                )
                .bind(to_millis(revocation.at))
                .bind(revocation.by)
                .bind(revocation.reason.as_str())
                .bind(*id)
                .bind(user_id)
                .fetch_optional(&mut tx)
                .await?;
                if let Some(row) = row {
                    log_revocation(&mut tx, &row, revocation, origin).await?;
                    revoked.push(RevokedPat {
                        id: row.try_get("id")?,
                        user_id: row.try_get("user_id")?,
                        hint: row.try_get("hint")?,
                    });
                }
            }
            tx.commit().await?;
            Ok(revoked)
        })
        .await
    }

    /// Revokes every token of a user that is not yet revoked or expired; how many.
    pub async fn revoke_user_pats(
        &self,
        user_id: i64,
        revocation: NewRevocation,
        origin: &Origin,
    ) -> StoreResult<u64> {
        let mut tx = self.pool.begin_write(WriteLock::User(user_id)).await?;
        let revoked = revoke_user_pats(&mut tx, user_id, revocation, origin).await?;
        let count = format!("{revoked} tokens revoked");
        let audit = NewAudit {
            user_id: Some(user_id),
            detail: Some(&count),
            ..NewAudit::new(AuditAction::CredentialsRevoked, revocation.at, origin)
        };
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// Revokes the live tokens unused (and not created or regenerated) since `unused_since`, as
    /// one claim: with several instances each token is revoked, and logged, once. How many.
    pub async fn revoke_unused_pats(
        &self,
        unused_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        retrying(|| self.revoke_unused_pats_once(unused_since, now)).await
    }

    async fn revoke_unused_pats_once(
        &self,
        unused_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await?;
        let rows = query(
            "UPDATE personal_access_tokens \
             SET revoked_at = $1, revoked_by = NULL, revoked_reason = $2 \
             WHERE revoked_at IS NULL AND expires_at > $1 \
               AND CASE WHEN last_used_at > COALESCE(issued_at, created_at) \
                   THEN last_used_at ELSE COALESCE(issued_at, created_at) END <= $3 \
             RETURNING id, user_id, name",
        )
        .bind(to_millis(now))
        .bind(RevokedReason::Unused.as_str())
        .bind(to_millis(unused_since))
        .fetch_all(&mut tx)
        .await?;
        let revocation = NewRevocation {
            at: now,
            by: None,
            reason: RevokedReason::Unused,
        };
        let origin = Origin::patio("Patio token policy");
        for row in &rows {
            log_revocation(&mut tx, row, revocation, &origin).await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }
}

/// Revokes a user's tokens that are neither revoked nor expired.
pub(super) async fn revoke_user_pats(
    conn: &mut Tx,
    user_id: i64,
    revocation: NewRevocation,
    origin: &Origin,
) -> StoreResult<u64> {
    let rows = query(
        "UPDATE personal_access_tokens \
         SET revoked_at = $1, revoked_by = $2, revoked_reason = $3 \
         WHERE user_id = $4 AND revoked_at IS NULL AND expires_at > $1 \
         RETURNING id, user_id, name",
    )
    .bind(to_millis(revocation.at))
    .bind(revocation.by)
    .bind(revocation.reason.as_str())
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    for row in &rows {
        log_revocation(&mut *conn, row, revocation, origin).await?;
    }
    Ok(rows.len() as u64)
}

/// Logs a token's revocation from its `RETURNING id, user_id, name` row.
pub(super) async fn log_revocation(
    conn: &mut Tx,
    row: &Row,
    revocation: NewRevocation,
    origin: &Origin,
) -> StoreResult<()> {
    let name: String = row.try_get("name")?;
    let mut event = token_event(
        row.try_get("user_id")?,
        EventKind::TokenRevoked,
        revocation.at,
        origin,
        (row.try_get("id")?, &name),
    );
    event.detail = Some(revocation.reason.as_str());
    insert_event(conn, event).await
}
