//! Storage (SPEC §6): one file per table (or close family of tables), each with the literal SQL
//! of its statements, on SQLite embedded by default or PostgreSQL for production (`crate::db`).
//! Operations whose check must hold with their write (the five-token limit, the last admin,
//! first-run setup) are single methods, made atomic with the lock `db::WriteLock` names.

mod audit;
mod clients;
mod events;
mod inventory;
mod leak_reports;
mod notifications;
mod outbox;
mod revocations;
mod sign_ins;
mod token_store;
mod token_use;
mod tokens;
mod usage;
mod users;

pub use audit::{AuditFilter, AuditRecord};
pub use clients::ClientRecord;
pub use events::{EventRecord, NewEvent};
pub use inventory::{InventoryEntry, InventoryFilter, InventorySort, InventoryStatus};
pub use leak_reports::QueuedReport;
pub use notifications::{NotificationSettings, WebhookRecord};
pub use outbox::{DeliveryOutcome, DeliveryRecord, NewNotice, OutboxItem};
pub use revocations::RevokedPat;
pub use sign_ins::{LoginFailures, LoginLimits, LoginReservation, SessionRecord};
pub use usage::{Overview, OverviewQuery};
pub use users::{AccessChange, NewUser, UserRecord};

use crate::db::{query, Pool, PoolUsage, StoreResult};
use crate::time::to_millis;
use chrono::{DateTime, Utc};

/// The database, with one method per thing Patio stores or asks.
pub struct Store {
    pool: Pool,
}

/// Opens the store a database URL names, creating what it needs and applying migrations.
pub async fn open(url: &str) -> StoreResult<std::sync::Arc<Store>> {
    Ok(std::sync::Arc::new(Store {
        pool: Pool::open(url).await?,
    }))
}

/// Rows older than these instants are of no further use and may be deleted.
#[derive(Clone, Copy, Debug)]
pub struct StaleBefore {
    pub session_created: DateTime<Utc>,
    pub session_seen: DateTime<Utc>,
    pub access_token_expired: DateTime<Utc>,
    pub login_failure: DateTime<Utc>,
    pub security_event: DateTime<Utc>,
}

impl Store {
    /// One round trip, for `/healthz`.
    pub async fn ping(&self) -> StoreResult<()> {
        query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// How many connections the pool holds, how many are idle, and its maximum.
    pub fn pool_usage(&self) -> PoolUsage {
        self.pool.usage()
    }

    /// Stop handing out connections (graceful shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn delete_stale(&self, before: StaleBefore) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        query("DELETE FROM sessions WHERE created_at < $1 OR last_seen_at < $2")
            .bind(to_millis(before.session_created))
            .bind(to_millis(before.session_seen))
            .execute(&mut tx)
            .await?;
        query("DELETE FROM access_tokens WHERE expires_at < $1")
            .bind(to_millis(before.access_token_expired))
            .execute(&mut tx)
            .await?;
        query("DELETE FROM login_failures WHERE at < $1")
            .bind(to_millis(before.login_failure))
            .execute(&mut tx)
            .await?;
        query("DELETE FROM security_events WHERE at < $1")
            .bind(to_millis(before.security_event))
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes a consistent copy of the whole database to a new file at `path`, while serving.
    pub async fn backup(&self, path: &std::path::Path) -> StoreResult<()> {
        self.pool.backup(path).await
    }
}
