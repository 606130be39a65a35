//! What can go wrong storing or reading, and how each outage is put to people.

use crate::domain::problem::{Answer, Kind, Problem};

pub type StoreResult<T> = Result<T, StoreError>;

/// Why the database cannot do what was asked: each is answered with 503, in its own words, so
/// whoever runs Patio knows what to fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outage {
    Unreachable,
    DiskFull,
    ReadOnly,
}

impl Outage {
    /// For whoever runs Patio, e.g. when it cannot start.
    pub fn cause(self) -> &'static str {
        match self {
            Outage::Unreachable => "the database cannot be reached",
            Outage::DiskFull => "the disk is full",
            Outage::ReadOnly => "the database or its folder is read-only",
        }
    }

    /// For the person whose request failed.
    pub fn message(self) -> &'static str {
        match self {
            Outage::Unreachable => {
                "Patio cannot reach its database right now. Try again in a moment."
            }
            Outage::DiskFull => {
                "Patio's database has run out of disk space, so nothing can be saved. \
                 Ask whoever runs Patio to free some space."
            }
            Outage::ReadOnly => {
                "Patio's database is read-only, so nothing can be saved. \
                 Ask whoever runs Patio to make it writable."
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or failed; callers answer 503.
    #[error("database unavailable: {0}")]
    Unavailable(#[from] sqlx::Error),
    #[error("could not apply database migrations: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (expected sqlite: or postgres:)")]
    UnsupportedUrl,
    // The refusals a write decides with its lock, in the words people read (pages and API).
    #[error("Patio is already set up.")]
    AlreadySetUp,
    #[error("That username is taken.")]
    UsernameTaken,
    #[error("That no longer exists.")]
    NotFound,
    #[error("The last active administrator cannot be deactivated or demoted.")]
    LastAdmin,
    /// What this backend does not do, and what to do instead.
    #[error("{0}")]
    Unsupported(&'static str),
}

impl Problem for StoreError {
    /// A refusal decided with a write, or else an outage in the words of its kind.
    fn answer(&self) -> Answer {
        let conflict = |code| Answer::new(Kind::Conflict, code, self.to_string());
        match self {
            StoreError::AlreadySetUp => conflict("already_set_up"),
            StoreError::UsernameTaken => conflict("username_taken").at("username"),
            StoreError::LastAdmin => conflict("last_admin"),
            StoreError::NotFound => Answer::new(Kind::NotFound, "not_found", self.to_string()),
            _ => Answer::new(Kind::Unavailable, "unavailable", self.outage().message()),
        }
    }
}

impl StoreError {
    /// Whether the database gave up the statement over a lock conflict that another try can
    /// pass: PostgreSQL's deadlock_detected or serialization_failure, SQLite's BUSY or LOCKED.
    pub fn is_lock_conflict(&self) -> bool {
        let StoreError::Unavailable(sqlx::Error::Database(database)) = self else {
            return false;
        };
        match database.code().as_deref() {
            Some("40P01" | "40001") => true,
            // SQLite's (extended) result codes have at most four digits; SQLSTATEs five.
            Some(code) if code.len() < 5 => {
                matches!(code.parse::<i32>().map(|code| code & 0xff), Ok(5 | 6))
            }
            Some(_) => false,
            None => false,
        }
    }

    /// The kind of outage behind a failure that is not the caller's doing.
    pub fn outage(&self) -> Outage {
        let error = match self {
            StoreError::Unavailable(error) => error,
            StoreError::Migration(sqlx::migrate::MigrateError::Execute(error)) => error,
            _ => return Outage::Unreachable,
        };
        if let sqlx::Error::Io(io) = error {
            return match io.kind() {
                std::io::ErrorKind::StorageFull => Outage::DiskFull,
                std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied => {
                    Outage::ReadOnly
                }
                _ => Outage::Unreachable,
            };
        }
        let code = error
            .as_database_error()
            .and_then(|database| database.code())
            .unwrap_or_default();
        match code.as_ref() {
            // PostgreSQL's SQLSTATEs: disk_full, read_only_sql_transaction.
            "53100" => Outage::DiskFull,
            "25006" => Outage::ReadOnly,
            // SQLite's extended result codes: SQLITE_FULL, and SQLITE_READONLY with its variants.
            code => match code.parse::<i32>().map(|code| code & 0xff) {
                Ok(13) => Outage::DiskFull,
                Ok(8) => Outage::ReadOnly,
                _ => Outage::Unreachable,
            },
        }
    }
}
