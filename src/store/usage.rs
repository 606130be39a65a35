use super::Store;
use crate::db::{query, StoreResult};
use crate::time::{from_millis, to_millis};
use crate::tokens::storage::{KindCount, SeenAddress, TokenActivity, UsageCount};
use chrono::{DateTime, Utc};

/// What Admin › Overview counts, as of `now` (SPEC §14).
#[derive(Clone, Copy, Debug)]
pub struct OverviewQuery {
    pub now: DateTime<Utc>,
    /// Active tokens expiring before this are "expiring soon".
    pub expiring_before: DateTime<Utc>,
    /// Active tokens not used (nor created) since this are "unused".
    pub unused_since: DateTime<Utc>,
    /// Revocations from this instant on are "this month's".
    pub month_start: DateTime<Utc>,
    /// Request counts from this day on.
    pub since_day: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overview {
    pub users: i64,
    pub active_tokens: i64,
    pub expiring_soon: i64,
    pub unused: i64,
    pub revoked_this_month: i64,
    /// Per day and kind: (day, kind, requests).
    pub requests: Vec<(i64, String, i64)>,
}

impl Store {
    /// Adds counted requests to the tokens' daily totals (tokens deleted meanwhile are skipped).
    pub async fn add_pat_usage(&self, counts: &[UsageCount]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for count in counts {
            query(
                "INSERT INTO token_usage (token_id, day, requests) \
                 SELECT $1, $2, $3 WHERE EXISTS \
                   (SELECT 1 FROM personal_access_tokens WHERE id = $1) \
                 ON CONFLICT (token_id, day) \
                 DO UPDATE SET requests = token_usage.requests + excluded.requests",
            )
            .bind(count.token_id)
            .bind(count.day)
            .bind(count.requests)
            .execute(&mut tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds counted requests to the daily totals per credential kind.
    pub async fn add_request_counts(&self, counts: &[KindCount]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for count in counts {
            query(
                "INSERT INTO request_counts (day, kind, requests) VALUES ($1, $2, $3) \
                 ON CONFLICT (day, kind) \
                 DO UPDATE SET requests = request_counts.requests + excluded.requests",
            )
            .bind(count.day)
            .bind(count.kind)
            .bind(count.requests)
            .execute(&mut tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn overview(&self, asked: OverviewQuery) -> StoreResult<Overview> {
        let row = query(
            "SELECT \
               (SELECT COUNT(*) FROM users) AS users, \
               (SELECT COUNT(*) FROM personal_access_tokens \
                WHERE revoked_at IS NULL AND expires_at > $1) AS active_tokens, \
               (SELECT COUNT(*) FROM personal_access_tokens \
                WHERE revoked_at IS NULL AND expires_at > $1 AND expires_at <= $2) \
                 AS expiring_soon, \
               (SELECT COUNT(*) FROM personal_access_tokens \
                WHERE revoked_at IS NULL AND expires_at > $1 \
                  AND COALESCE(last_used_at, issued_at, created_at) <= $3) AS unused, \
               (SELECT COUNT(*) FROM personal_access_tokens \
                WHERE revoked_at >= $4) AS revoked_this_month",
        )
        .bind(to_millis(asked.now))
        .bind(to_millis(asked.expiring_before))
        .bind(to_millis(asked.unused_since))
        .bind(to_millis(asked.month_start))
        .fetch_one(&self.pool)
        .await?;
        let rows = query(
            "SELECT day, kind, requests FROM request_counts WHERE day >= $1 \
             ORDER BY day, kind",
        )
        .bind(asked.since_day)
        .fetch_all(&self.pool)
        .await?;
        Ok(Overview {
            users: row.try_get("users")?,
            active_tokens: row.try_get("active_tokens")?,
            expiring_soon: row.try_get("expiring_soon")?,
            unused: row.try_get("unused")?,
            revoked_this_month: row.try_get("revoked_this_month")?,
            requests: rows
                .iter()
                .map(|row| {
                    Ok((
                        row.try_get("day")?,
                        row.try_get("kind")?,
                        row.try_get("requests")?,
                    ))
                })
                .collect::<sqlx::Result<_>>()?,
        })
    }

    /// The addresses and daily requests (from day `since_day` on) of a user's tokens.
    pub async fn pat_activity(&self, user_id: i64, since_day: i64) -> StoreResult<TokenActivity> {
        let mut activity = TokenActivity::default();
        let rows = query(
            "SELECT a.token_id, a.ip, a.last_seen_at FROM token_addresses a \
             JOIN personal_access_tokens p ON p.id = a.token_id \
             WHERE p.user_id = $1 ORDER BY a.last_seen_at DESC, a.ip",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            activity
                .addresses
                .entry(row.try_get("token_id")?)
                .or_default()
                .push(SeenAddress {
                    ip: row.try_get("ip")?,
                    last_seen_at: from_millis(row.try_get("last_seen_at")?),
                });
        }
        let rows = query(
            "SELECT u.token_id, u.day, u.requests FROM token_usage u \
             JOIN personal_access_tokens p ON p.id = u.token_id \
             WHERE p.user_id = $1 AND u.day >= $2 ORDER BY u.day",
        )
        .bind(user_id)
        .bind(since_day)
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            let token_id: i64 = row.try_get("token_id")?;
            let count = (row.try_get("day")?, row.try_get("requests")?);
            activity.usage.entry(token_id).or_default().push(count);
        }
        Ok(activity)
    }
}
