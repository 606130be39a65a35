use super::Store;
use crate::db::{query, StoreResult, Target, Tx, WriteLock};
use crate::domain::accounts::Account;
use crate::domain::events::{EventKind, Origin};
use crate::store::events::{account_event, insert_event};
use crate::store::users::account_from_row;
use crate::time::{from_millis, to_millis};
use chrono::{DateTime, Utc};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub user_id: i64,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// Failed sign-ins inside the brute-force window, per username and per client address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoginFailures {
    pub by_username: i64,
    pub oldest_by_username: Option<DateTime<Utc>>,
    pub by_client: i64,
    pub oldest_by_client: Option<DateTime<Utc>>,
}

/// The brute-force limits a sign-in attempt is reserved under.
#[derive(Clone, Copy, Debug)]
pub struct LoginLimits {
    /// Failures after this instant count.
    pub since: DateTime<Utc>,
    pub per_username: i64,
    pub per_client: i64,
}

impl LoginFailures {
    /// Whether another attempt stays within `limits`.
    pub fn allow(&self, limits: &LoginLimits) -> bool {
        self.by_username < limits.per_username && self.by_client < limits.per_client
    }
}

/// An attempt counted as a failure until it is known to have succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginReservation(pub i64);

impl Store {
    /// Starts a session, recording the sign-in.
    pub async fn create_session(
        &self,
        digest: &str,
        user_id: i64,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        query(
            "INSERT INTO sessions (digest, user_id, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $3)",
        )
        .bind(digest)
        .bind(user_id)
        .bind(to_millis(now))
        .execute(&mut tx)
        .await?;
        insert_event(
            &mut tx,
            account_event(user_id, EventKind::SignedIn, now, origin),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn session(&self, digest: &str) -> StoreResult<Option<(SessionRecord, Account)>> {
        let Some(row) = query(
            "SELECT u.id, u.username, u.display_name, u.role, u.active, u.email, u.email_verified_at, s.created_at AS session_created_at, \
               s.last_seen_at \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.digest = $1",
        )
        .bind(digest).fetch_optional(&self.pool).await?
        else {
            return Ok(None);
        };
        let user = account_from_row(&row)?;
        let session = SessionRecord {
            user_id: user.id,
            created_at: from_millis(row.try_get("session_created_at")?),
            last_seen_at: from_millis(row.try_get("last_seen_at")?),
        };
        Ok(Some((session, user)))
    }

    pub async fn touch_session(&self, digest: &str, now: DateTime<Utc>) -> StoreResult<()> {
        query("UPDATE sessions SET last_seen_at = $1 WHERE digest = $2")
            .bind(to_millis(now))
            .bind(digest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends a session that is no longer valid.
    pub async fn delete_session(&self, digest: &str) -> StoreResult<()> {
        query("DELETE FROM sessions WHERE digest = $1")
            .bind(digest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends a session because its user signs out (or signs in anew), recording it.
    pub async fn sign_out(
        &self,
        digest: &str,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let ended = query("DELETE FROM sessions WHERE digest = $1 RETURNING user_id")
            .bind(digest)
            .fetch_optional(&mut tx)
            .await?;
        if let Some(row) = ended {
            let user_id = row.try_get("user_id")?;
            insert_event(
                &mut tx,
                account_event(user_id, EventKind::SignedOut, now, origin),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_access_token(
        &self,
        digest: &str,
        user_id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let mut event = account_event(user_id, EventKind::SignedIn, now, origin);
        event.detail = Some("access_token");
        insert_event(&mut tx, event).await?;
        query(
            "INSERT INTO access_tokens (digest, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(digest)
        .bind(user_id)
        .bind(to_millis(now))
        .bind(to_millis(expires_at))
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The expiry and owner of an access token.
    pub async fn access_token(
        &self,
        digest: &str,
    ) -> StoreResult<Option<(DateTime<Utc>, Account)>> {
        let Some(row) = query(
            "SELECT u.id, u.username, u.display_name, u.role, u.active, u.email, u.email_verified_at, a.expires_at \
             FROM access_tokens a JOIN users u ON u.id = a.user_id WHERE a.digest = $1",
        )
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        Ok(Some((
            from_millis(row.try_get("expires_at")?),
            account_from_row(&row)?,
        )))
    }

    /// Counts the failures within `limits` and, when another attempt is allowed, records one
    /// more failure for it, as one atomic step: concurrent attempts (on any instance) are each
    /// counted before any password is checked. `Err` carries the counts that refused it.
    pub async fn reserve_login_attempt(
        &self,
        username_key: &str,
        client: &str,
        now: DateTime<Utc>,
        limits: LoginLimits,
    ) -> StoreResult<Result<LoginReservation, LoginFailures>> {
        // Over the limit already: refused from a plain read, without waiting for the
        // lock, so a flood of refused attempts holds no connection for long.
        let failures = login_failures(&self.pool, username_key, client, limits).await?;
        if !failures.allow(&limits) {
            return Ok(Err(failures));
        }
        let mut tx = self.pool.begin_write(WriteLock::LoginAttempts).await?;
        let failures = login_failures(&mut tx, username_key, client, limits).await?;
        if !failures.allow(&limits) {
            tx.rollback().await?;
            return Ok(Err(failures));
        }
        let row = query(
            "INSERT INTO login_failures (username_key, client, at) VALUES ($1, $2, $3) \
             RETURNING id",
        )
        .bind(username_key)
        .bind(client)
        .bind(to_millis(now))
        .fetch_one(&mut tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        tx.commit().await?;
        Ok(Ok(LoginReservation(id)))
    }

    /// Removes the failure recorded for an attempt that succeeded.
    pub async fn cancel_login_attempt(&self, reservation: LoginReservation) -> StoreResult<()> {
        query("DELETE FROM login_failures WHERE id = $1")
            .bind(reservation.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends every session and access token of a user.
    pub async fn end_sign_ins(&self, user_id: i64) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        delete_sign_ins(&mut tx, user_id).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Failures within `limits`' window, per username and per client address.
async fn login_failures<'c>(
    db: impl Into<Target<'c>>,
    username_key: &str,
    client: &str,
    limits: LoginLimits,
) -> StoreResult<LoginFailures> {
    let row = query(
        "SELECT \
           (SELECT COUNT(*) FROM login_failures WHERE username_key = $1 AND at > $3) AS by_username, \
           (SELECT MIN(at) FROM login_failures WHERE username_key = $1 AND at > $3) AS oldest_by_username, \
           (SELECT COUNT(*) FROM login_failures WHERE client = $2 AND at > $3) AS by_client, \
           (SELECT MIN(at) FROM login_failures WHERE client = $2 AND at > $3) AS oldest_by_client",
    )
    .bind(username_key)
    .bind(client)
    .bind(to_millis(limits.since))
    .fetch_one(db)
    .await?;
    Ok(LoginFailures {
        by_username: row.try_get("by_username")?,
        oldest_by_username: row
            .try_get::<Option<i64>>("oldest_by_username")?
            .map(from_millis),
        by_client: row.try_get("by_client")?,
        oldest_by_client: row
            .try_get::<Option<i64>>("oldest_by_client")?
            .map(from_millis),
    })
}

/// Ends a user's sessions and access tokens.
pub(super) async fn delete_sign_ins(conn: &mut Tx, user_id: i64) -> StoreResult<()> {
    query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    query("DELETE FROM access_tokens WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
