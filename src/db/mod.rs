//! The database beneath the tables (SPEC §6): SQLite embedded by default, PostgreSQL for
//! production. What differs between them — connecting, migrations, backups and how a writer
//! takes its lock — lives in `sqlite.rs` and `postgres.rs`; statements are written once
//! (`query.rs`) and run on either; what can go wrong is `error.rs`, including the refusals a
//! write decides under its lock. The tables and their SQL are `store`'s.

mod error;
mod postgres;
mod query;
mod sqlite;

pub use error::{Outage, StoreError, StoreResult};
pub use query::{is_unique_violation, query, query_with_list, Row, Target};

use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

/// A pool of connections to one of the two backends.
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A transaction on one of the two backends; dropped without `commit`, it rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Which writers must wait for each other.
#[derive(Clone, Copy, Debug)]
pub enum WriteLock {
    /// Decisions about the set of users (first run, the last administrator).
    Users,
    /// Decisions about one user's tokens.
    User(i64),
    /// Counting and recording sign-in attempts.
    LoginAttempts,
}

/// How many connections the pool holds, and how many of them are free.
#[derive(Clone, Copy, Debug)]
pub struct PoolUsage {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

impl Pool {
    /// Opens the database a URL names, creating what it needs and applying migrations.
    pub async fn open(url: &str) -> StoreResult<Pool> {
        if url.starts_with("sqlite:") {
            Ok(Pool::Sqlite(sqlite::open(url).await?))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Pool::Postgres(postgres::open(url).await?))
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }

    /// A transaction for reads, or for writes that decide nothing another writer could race.
    pub async fn begin(&self) -> sqlx::Result<Tx> {
        Ok(match self {
            Pool::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Pool::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// A transaction holding `lock`, for a check that must still hold when its write lands.
    pub async fn begin_write(&self, lock: WriteLock) -> sqlx::Result<Tx> {
        match self {
            Pool::Sqlite(pool) => sqlite::begin_write(pool).await,
            Pool::Postgres(pool) => postgres::begin_write(pool, lock).await,
        }
    }

    pub fn usage(&self) -> PoolUsage {
        match self {
            Pool::Sqlite(pool) => PoolUsage {
                size: pool.size(),
                idle: pool.num_idle() as u32,
                max: pool.options().get_max_connections(),
            },
            Pool::Postgres(pool) => PoolUsage {
                size: pool.size(),
                idle: pool.num_idle() as u32,
                max: pool.options().get_max_connections(),
            },
        }
    }

    /// Stop handing out connections (graceful shutdown).
    pub async fn close(&self) {
        match self {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }

    /// A consistent copy of the whole database in a new file, where the backend makes one.
    pub async fn backup(&self, path: &std::path::Path) -> StoreResult<()> {
        match self {
            Pool::Sqlite(pool) => sqlite::backup(pool, path).await,
            Pool::Postgres(_) => postgres::backup(),
        }
    }
}

/// Runs a write again when the database failed it to break a lock conflict (a PostgreSQL
/// deadlock or serialization failure, SQLite's busy): each try is a transaction of its own, so
/// none is left half done. At most three tries more, a few milliseconds apart.
pub async fn retrying<T, F>(mut write: impl FnMut() -> F) -> StoreResult<T>
where
    F: std::future::Future<Output = StoreResult<T>>,
{
    let mut tries: u64 = 0;
    loop {
        match write().await {
            Err(error) if error.is_lock_conflict() && tries < 3 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5 * tries)).await;
            }
            done => return done,
        }
    }
}

impl Tx {
    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    pub async fn rollback(self) -> sqlx::Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await,
            Tx::Postgres(tx) => tx.rollback().await,
        }
    }
}
