//! The `leak_reports` table: the leaked-token intake's durable queue (SPEC §13). A report is
//! queued before its reporter has an answer, leased to one worker at a time, and deleted once
//! handled; a worker that fails or dies leaves it to be taken again when its lease lapses.

use super::Store;
use crate::db::{query, StoreResult};
use crate::domain::events::Origin;
use crate::time::to_millis;
use chrono::{DateTime, Utc};

/// A queued report, leased to this worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedReport {
    pub id: i64,
    /// The digests of the well-formed PATs it held.
    pub digests: Vec<String>,
    /// The reporter, for the owners' security logs.
    pub origin: Origin,
}

impl Store {
    pub async fn enqueue_leak_report(
        &self,
        digests: &[String],
        origin: &Origin,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        query(
            "INSERT INTO leak_reports \
               (received_at, digests, client_ip, user_agent, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $1)",
        )
        .bind(to_millis(now))
        .bind(digests.join("\n"))
        .bind(origin.client.map(|ip| ip.to_string()))
        .bind(origin.user_agent.as_deref())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Leases the oldest due report to this worker until `lease_until`. The conditions are
    /// repeated outside the subquery: PostgreSQL checks them again on a row another worker has
    /// just leased, and skips it.
    pub async fn claim_leak_report(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<QueuedReport>> {
        let row = query(
            "UPDATE leak_reports SET next_attempt_at = $2, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM leak_reports WHERE next_attempt_at <= $1 \
                         ORDER BY next_attempt_at, id LIMIT 1) \
               AND next_attempt_at <= $1 \
             RETURNING id, digests, client_ip, user_agent",
        )
        .bind(to_millis(now))
        .bind(to_millis(lease_until))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let digests: String = row.try_get("digests")?;
        let client: Option<String> = row.try_get("client_ip")?;
        Ok(Some(QueuedReport {
            id: row.try_get("id")?,
            digests: digests.lines().map(str::to_owned).collect(),
            origin: Origin {
                actor: None,
                client: client.and_then(|ip| ip.parse().ok()),
                user_agent: row.try_get("user_agent")?,
            },
        }))
    }

    /// A handled report leaves the queue.
    pub async fn finish_leak_report(&self, id: i64) -> StoreResult<()> {
        query("DELETE FROM leak_reports WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// How many reports wait (for the tests and the operator's eye).
    pub async fn queued_leak_reports(&self) -> StoreResult<i64> {
        let row = query("SELECT COUNT(*) AS n FROM leak_reports")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }
}
