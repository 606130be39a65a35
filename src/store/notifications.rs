use super::Store;
use crate::db::{query, StoreError, StoreResult};
use crate::time::{from_millis, to_millis};
use chrono::{DateTime, Utc};

/// A user's notification settings (SPEC §11).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotificationSettings {
    pub email: Option<String>,
    pub email_verified: bool,
    pub webhook: Option<WebhookRecord>,
    pub has_calendar_feed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookRecord {
    pub url: String,
    /// The signing secret (`Patio-Signature`); it opens nothing in Patio.
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

impl Store {
    pub async fn notification_settings(&self, user_id: i64) -> StoreResult<NotificationSettings> {
        let row = query(
            "SELECT u.email, u.email_verified_at, u.calendar_feed_digest, \
               w.url, w.secret, w.created_at AS webhook_created_at \
             FROM users u LEFT JOIN webhooks w ON w.user_id = u.id WHERE u.id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let url: Option<String> = row.try_get("url")?;
        let webhook = match url {
            Some(url) => Some(WebhookRecord {
                url,
                secret: row.try_get("secret")?,
                created_at: from_millis(row.try_get("webhook_created_at")?),
            }),
            None => None,
        };
        Ok(NotificationSettings {
            email: row.try_get("email")?,
            email_verified: row.try_get::<Option<i64>>("email_verified_at")?.is_some(),
            webhook,
            has_calendar_feed: row
                .try_get::<Option<String>>("calendar_feed_digest")?
                .is_some(),
        })
    }

    /// Sets (or with `None` removes) the user's address, unverified; with a verification link's
    /// digest, queues the mail that carries it.
    pub async fn set_email(
        &self,
        user_id: i64,
        email: Option<&str>,
        verification: Option<(&str, DateTime<Utc>)>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        query("UPDATE users SET email = $1, email_verified_at = NULL WHERE id = $2")
            .bind(email)
            .bind(user_id)
            .execute(&mut tx)
            .await?;
        query("DELETE FROM email_verifications WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut tx)
            .await?;
        // Undelivered mail to the old address is not sent any more.
        query(
            "UPDATE outbox SET failed_at = $2, last_status = 'the address changed' \
             WHERE user_id = $1 AND channel = 'mail' AND sent_at IS NULL AND failed_at IS NULL",
        )
        .bind(user_id)
        .bind(to_millis(now))
        .execute(&mut tx)
        .await?;
        if let (Some(email), Some((digest, expires_at))) = (email, verification) {
            query(
                "INSERT INTO email_verifications (digest, user_id, email, expires_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(digest)
            .bind(user_id)
            .bind(email)
            .bind(to_millis(expires_at))
            .execute(&mut tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Uses a verification link once; the user whose address it verified.
    pub async fn verify_email(&self, digest: &str, now: DateTime<Utc>) -> StoreResult<Option<i64>> {
        let mut tx = self.pool.begin().await?;
        let used = query(
            "DELETE FROM email_verifications WHERE digest = $1 \
             RETURNING user_id, email, expires_at",
        )
        .bind(digest)
        .fetch_optional(&mut tx)
        .await?;
        let Some(row) = used else {
            tx.rollback().await?;
            return Ok(None);
        };
        let user_id: i64 = row.try_get("user_id")?;
        let email: String = row.try_get("email")?;
        if row.try_get::<i64>("expires_at")? <= to_millis(now) {
            tx.commit().await?;
            return Ok(None);
        }
        let verified =
            query("UPDATE users SET email_verified_at = $1 WHERE id = $2 AND email = $3")
                .bind(to_millis(now))
                .bind(user_id)
                .bind(&email)
                .execute(&mut tx)
                .await?;
        tx.commit().await?;
        Ok((verified.rows_affected() > 0).then_some(user_id))
    }

    pub async fn set_webhook(
        &self,
        user_id: i64,
        url: &str,
        secret: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        query("DELETE FROM webhooks WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut tx)
            .await?;
        query("INSERT INTO webhooks (user_id, url, secret, created_at) VALUES ($1, $2, $3, $4)")
            .bind(user_id)
            .bind(url)
            .bind(secret)
            .bind(to_millis(now))
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_webhook(&self, user_id: i64) -> StoreResult<bool> {
        let done = query("DELETE FROM webhooks WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Sets or (with `None`) removes the digest of the user's calendar feed secret.
    pub async fn set_calendar_feed(&self, user_id: i64, digest: Option<&str>) -> StoreResult<()> {
        query("UPDATE users SET calendar_feed_digest = $1 WHERE id = $2")
            .bind(digest)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The active user a calendar feed secret belongs to.
    pub async fn calendar_feed_owner(&self, digest: &str) -> StoreResult<Option<i64>> {
        let row = query("SELECT id FROM users WHERE calendar_feed_digest = $1 AND active")
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get("id")).transpose()?)
    }
}
