use super::Store;
use crate::db::{query, StoreError, StoreResult, Tx};
use crate::time::{from_millis, to_millis};
use chrono::{DateTime, Utc};

/// A notification about to be queued: once per `key`, to each of the user's channels.
#[derive(Clone, Copy, Debug)]
pub struct NewNotice<'a> {
    pub user_id: i64,
    pub kind: &'a str,
    /// What makes it one notification and not another, e.g. `expiry7:<token>:<expires_at>`.
    pub key: &'a str,
    /// The facts it tells, as JSON.
    pub payload: &'a str,
    pub at: DateTime<Utc>,
}

/// A queued notification leased to this sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub user_id: i64,
    /// `mail` or `webhook`.
    pub channel: String,
    pub kind: String,
    pub payload: String,
    /// The e-mail address or webhook URL it was queued for.
    pub recipient: String,
    pub created_at: DateTime<Utc>,
    /// Including this one.
    pub attempts: i64,
}

/// How a delivery attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Sent { status: String },
    Retry { at: DateTime<Utc>, status: String },
    Failed { status: String },
}

/// A notification as its user's Notifications page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: i64,
    pub channel: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub attempts: i64,
    pub sent_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub last_status: Option<String>,
}

impl Store {
    /// Queues the verification mail of an address not yet verified (the one mail it may get).
    pub async fn enqueue_verification(
        &self,
        user_id: i64,
        email: &str,
        key: &str,
        payload: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        query(
            "INSERT INTO outbox \
               (user_id, channel, kind, dedupe_key, payload, recipient, created_at, next_attempt_at) \
             VALUES ($1, 'mail', 'verify_email', $2, $3, $4, $5, $5) \
             ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(user_id)
        .bind(key)
        .bind(payload)
        .bind(email)
        .bind(to_millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Queues a notification to each of the user's channels, once per key; how many rows.
    pub async fn enqueue_notice(&self, notice: NewNotice<'_>) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await?;
        let queued = enqueue(&mut tx, notice).await?;
        tx.commit().await?;
        Ok(queued)
    }

    /// Queues the 7-day and 1-day reminders of every live token now in those windows (each
    /// once, whichever instance asks); how many.
    pub async fn enqueue_expiry_reminders(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        use crate::domain::notices::NoticeKind;
        let day = chrono::Duration::days(1);
        let rows = query(
            "SELECT id, user_id, name, expires_at FROM personal_access_tokens \
             WHERE revoked_at IS NULL AND expires_at > $1 AND expires_at <= $2",
        )
        .bind(to_millis(now))
        .bind(to_millis(now + day * 7))
        .fetch_all(&self.pool)
        .await?;
        let mut tx = self.pool.begin().await?;
        let mut queued = 0;
        for row in &rows {
            let id: i64 = row.try_get("id")?;
            let name: String = row.try_get("name")?;
            let expires_at: i64 = row.try_get("expires_at")?;
            // The nearer threshold only: a token already within a day gets one reminder.
            let (kind, label) = if expires_at <= to_millis(now + day) {
                (NoticeKind::ExpiresIn1Day, "expiry1")
            } else {
                (NoticeKind::ExpiresIn7Days, "expiry7")
            };
            let payload = serde_json::json!({
                "token": { "id": id, "name": name },
                "expires_at": crate::time::rfc3339_string(from_millis(expires_at)),
            })
            .to_string();
            let key = format!("{label}:{id}:{expires_at}");
            let notice = NewNotice {
                user_id: row.try_get("user_id")?,
                kind: kind.as_str(),
                key: &key,
                payload: &payload,
                at: now,
            };
            queued += enqueue(&mut tx, notice).await?;
        }
        tx.commit().await?;
        Ok(queued)
    }

    /// Leases up to `limit` due notifications to this sender until `lease_until`: for each
    /// destination with nothing in flight (on any sender), its oldest due one.
    pub async fn claim_outbox(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<OutboxItem>> {
        // The conditions are repeated outside the subquery: PostgreSQL checks them again
        // on a row another sender has just claimed, and skips it.
        let rows = query(
            "UPDATE outbox SET claimed_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT o.id FROM outbox o \
                          WHERE o.sent_at IS NULL AND o.failed_at IS NULL \
                            AND o.next_attempt_at <= $1 \
                            AND (o.claimed_until IS NULL OR o.claimed_until <= $1) \
                            AND o.id = (SELECT MIN(d.id) FROM outbox d \
                                        WHERE d.recipient = o.recipient \
                                          AND d.sent_at IS NULL AND d.failed_at IS NULL \
                                          AND d.next_attempt_at <= $1) \
                            AND NOT EXISTS (SELECT 1 FROM outbox f \
                                            WHERE f.recipient = o.recipient \
                                              AND f.sent_at IS NULL AND f.failed_at IS NULL \
                                              AND f.claimed_until > $1) \
                          ORDER BY o.next_attempt_at, o.id LIMIT $3) \
               AND sent_at IS NULL AND failed_at IS NULL \
               AND (claimed_until IS NULL OR claimed_until <= $1) \
             RETURNING id, user_id, channel, kind, payload, recipient, created_at, attempts",
        )
        .bind(to_millis(now))
        .bind(to_millis(lease_until))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(OutboxItem {
                    id: row.try_get("id")?,
                    user_id: row.try_get("user_id")?,
                    channel: row.try_get("channel")?,
                    kind: row.try_get("kind")?,
                    payload: row.try_get("payload")?,
                    recipient: row.try_get("recipient")?,
                    created_at: from_millis(row.try_get("created_at")?),
                    attempts: row.try_get("attempts")?,
                })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(StoreError::from)
    }

    pub async fn finish_outbox(
        &self,
        id: i64,
        outcome: DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (sent, failed, next, status) = match &outcome {
            DeliveryOutcome::Sent { status } => (Some(now), None, None, status),
            DeliveryOutcome::Failed { status } => (None, Some(now), None, status),
            DeliveryOutcome::Retry { at, status } => (None, None, Some(*at), status),
        };
        // A verification link is kept only until it is sent (or never will be).
        query(
            "UPDATE outbox SET sent_at = $2, failed_at = $3, \
               next_attempt_at = COALESCE($4, next_attempt_at), claimed_until = NULL, \
               last_status = $5, \
               payload = CASE WHEN kind = 'verify_email' AND $4 IS NULL THEN '{}' \
                         ELSE payload END \
             WHERE id = $1",
        )
        .bind(id)
        .bind(sent.map(to_millis))
        .bind(failed.map(to_millis))
        .bind(next.map(to_millis))
        .bind(status.chars().take(300).collect::<String>())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user's latest notifications, newest first: on every channel, or on one.
    pub async fn deliveries(
        &self,
        user_id: i64,
        channel: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        let rows = query(
            "SELECT id, channel, kind, created_at, attempts, sent_at, failed_at, last_status \
             FROM outbox WHERE user_id = $1 AND ($2 IS NULL OR channel = $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(user_id)
        .bind(channel)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DeliveryRecord {
                    id: row.try_get("id")?,
                    channel: row.try_get("channel")?,
                    kind: row.try_get("kind")?,
                    created_at: from_millis(row.try_get("created_at")?),
                    attempts: row.try_get("attempts")?,
                    sent_at: row.try_get::<Option<i64>>("sent_at")?.map(from_millis),
                    failed_at: row.try_get::<Option<i64>>("failed_at")?.map(from_millis),
                    last_status: row.try_get("last_status")?,
                })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(StoreError::from)
    }
}

/// Queues a notice to the user's verified address and webhook, once per key and channel.
pub(super) async fn enqueue(conn: &mut Tx, notice: NewNotice<'_>) -> StoreResult<u64> {
    let mail = query(
        "INSERT INTO outbox \
           (user_id, channel, kind, dedupe_key, payload, recipient, created_at, next_attempt_at) \
         SELECT id, 'mail', $2, $3, $4, email, $5, $5 FROM users \
         WHERE id = $1 AND active AND email IS NOT NULL AND email_verified_at IS NOT NULL \
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(notice.user_id)
    .bind(notice.kind)
    .bind(format!("{}:mail", notice.key))
    .bind(notice.payload)
    .bind(to_millis(notice.at))
    .execute(&mut *conn)
    .await?;
    let hook = query(
        "INSERT INTO outbox \
           (user_id, channel, kind, dedupe_key, payload, recipient, created_at, next_attempt_at) \
         SELECT w.user_id, 'webhook', $2, $3, $4, w.url, $5, $5 \
         FROM webhooks w JOIN users u ON u.id = w.user_id \
         WHERE w.user_id = $1 AND u.active \
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(notice.user_id)
    .bind(notice.kind)
    .bind(format!("{}:webhook", notice.key))
    .bind(notice.payload)
    .bind(to_millis(notice.at))
    .execute(&mut *conn)
    .await?;
    Ok(mail.rows_affected() + hook.rows_affected())
}
