//! The embedded backend. SQLite serialises writers; `BEGIN IMMEDIATE` takes the write lock
//! before a transaction reads, so a check and its write cannot interleave with another's.

use super::StoreError;
use super::Tx;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// Opens (creating file and folder if needed) and migrates the database at `url`.
pub async fn open(url: &str) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        // Token lookups touch a few index pages of a possibly large file: map it, so hot
        // pages are read without a system call each (see BENCHMARKS.md, scale).
        .pragma("mmap_size", "268435456");
    if let Some(folder) = options.get_filename().parent() {
        if !folder.as_os_str().is_empty() {
            writable_folder(folder)
                .map_err(|error| StoreError::Unavailable(sqlx::Error::Io(error)))?;
        }
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(5))
        // When a COMMIT fails (say, on a full disk) SQLite rolls back by itself; sqlx's own
        // ROLLBACK then fails and it still counts the connection as inside a transaction,
        // so every later BEGIN on it would fail. Such a connection is dropped, not reused.
        .after_release(|connection, _| Box::pin(async move { Ok(!connection.is_in_transaction()) }))
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
    Ok(pool)
}

/// Every writer takes SQLite's one write lock up front, whatever it decides about.
pub async fn begin_write(pool: &SqlitePool) -> sqlx::Result<Tx> {
    Ok(Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?))
}

/// `VACUUM INTO`: one read transaction copies every page, so the copy is consistent while
/// writers go on (they wait only for their own turn, as always), and it is compact.
pub async fn backup(pool: &SqlitePool, path: &std::path::Path) -> Result<(), StoreError> {
    if path.exists() {
        return Err(StoreError::Unsupported(
            "the backup file already exists; choose a new file name",
        ));
    }
    let Some(path) = path.to_str() else {
        return Err(StoreError::Unsupported(
            "the backup file name must be UTF-8",
        ));
    };
    sqlx::query("VACUUM INTO $1")
        .bind(path)
        .execute(pool)
        .await?;
    Ok(())
}

/// Creates `folder` if needed and checks that it takes new files: SQLite keeps its journal files
/// beside the database, and would report a read-only folder only as "unable to open database
/// file".
fn writable_folder(folder: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(folder)?;
    let probe = folder.join(format!(".patio-write-check-{}", std::process::id()));
    std::fs::File::create(&probe)?;
    std::fs::remove_file(&probe)
}
