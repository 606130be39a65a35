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
    let file = options.get_filename();
    if let Some(folder) = file.parent() {
        if !folder.as_os_str().is_empty() {
            writable_folder(folder)
                .map_err(|error| StoreError::Unavailable(sqlx::Error::Io(error)))?;
        }
    }
    if file != std::path::Path::new(":memory:") {
        owner_only(file).map_err(|error| StoreError::Unavailable(sqlx::Error::Io(error)))?;
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
/// writers go on (they wait only for their own turn, as always), and it is compact. The file is
/// made first, readable by its owner only (it holds webhook signing secrets), and only where
/// nothing is: an existing file or any symbolic link, even a dangling one, is refused.
pub async fn backup(pool: &SqlitePool, path: &std::path::Path) -> Result<(), StoreError> {
    let Some(text) = path.to_str() else {
        return Err(StoreError::Unsupported(
            "the backup file name must be UTF-8",
        ));
    };
    match new_private_file(path) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(StoreError::Unsupported(
                "something already exists at that name (a file or a symbolic link); choose a \
                 new file name",
            ));
        }
        Err(error) => return Err(StoreError::Unavailable(sqlx::Error::Io(error))),
    }
    let copied = sqlx::query("VACUUM INTO $1").bind(text).execute(pool).await;
    if let Err(error) = copied {
        // No half-made backup is left to be mistaken for one.
        let _ = std::fs::remove_file(path);
        return Err(error.into());
    }
    Ok(())
}

/// A new, empty file that only its owner may read and write. `create_new` fails on anything
/// already there, a symbolic link included (`O_CREAT | O_EXCL` never follows one).
fn new_private_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// The database file, created if missing, readable and writable by its owner only: it holds
/// webhook signing secrets. SQLite gives its WAL and shared-memory files the database file's
/// permissions.
fn owner_only(file: &std::path::Path) -> std::io::Result<()> {
    match new_private_file(file) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(file)?.permissions().mode();
                if mode & 0o077 != 0 {
                    let private = std::fs::Permissions::from_mode(mode & 0o700);
                    std::fs::set_permissions(file, private)?;
                }
            }
            Ok(())
        }
        Err(error) => Err(error),
    }
}

/// Creates `folder` if needed (its owner's alone when new) and checks that it takes new files:
/// SQLite keeps its journal files beside the database, and would report a read-only folder
/// only as "unable to open database file".
fn writable_folder(folder: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(folder)?;
    let probe = folder.join(format!(".patio-write-check-{}", std::process::id()));
    std::fs::File::create(&probe)?;
    std::fs::remove_file(&probe)
}
