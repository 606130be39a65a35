//! The production backend. Several Patio processes may share one database, so writers that
//! must see each other's effects take a transaction-scoped lock: the user's row for token
//! limits, an advisory lock for decisions about the set of users.

use super::StoreError;
use super::{Tx, WriteLock};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

/// Arbitrary constants naming Patio's advisory locks: decisions about the set of users, and
/// counting sign-in attempts.
const USERS_LOCK_KEY: i64 = 0x7061_7469_6f75;
const LOGIN_ATTEMPTS_LOCK_KEY: i64 = 0x7061_7469_6f6c;

/// Connections to PostgreSQL: twice the cores, at least 4 (PostgreSQL's own sizing advice, for a
/// database server on a machine like this one). More only queue in the operating system's
/// scheduler: on 2 cores, 16 connections put the p99 of a bare `SELECT 1` above 5 ms at 32
/// concurrent requests, and 4 kept it near 4 ms at the same throughput (BENCHMARKS-postgres.md).
fn pool_size() -> u32 {
    std::thread::available_parallelism()
        .map_or(4, |cores| 2 * cores.get() as u32)
        .clamp(4, 32)
}

/// Connects to and migrates the database at `url`.
pub async fn open(url: &str) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url)?;
    let pool = PgPoolOptions::new()
        .max_connections(pool_size())
        // Fail fast when the server is gone: sqlx retries connecting until this timeout,
        // so it bounds how long a request waits before answering 503.
        .acquire_timeout(Duration::from_secs(1))
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    Ok(pool)
}

/// PostgreSQL has its own consistent, online backups; Patio does not redo them.
pub fn backup() -> Result<(), StoreError> {
    Err(StoreError::Unsupported(
        "on PostgreSQL, back up with pg_dump (see the README's Backups section)",
    ))
}

/// Takes the lock that `lock` names, for the rest of the transaction.
pub async fn begin_write(pool: &PgPool, lock: WriteLock) -> sqlx::Result<Tx> {
    let mut tx = pool.begin().await?;
    match lock {
        WriteLock::Users | WriteLock::LoginAttempts => {
            let key = match lock {
                WriteLock::Users => USERS_LOCK_KEY,
                _ => LOGIN_ATTEMPTS_LOCK_KEY,
            };
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        WriteLock::User(id) => {
            sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
    }
    Ok(Tx::Postgres(tx))
}
