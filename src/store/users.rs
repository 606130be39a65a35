use super::Store;
use crate::db::{is_unique_violation, query, Row, StoreError, StoreResult, Tx, WriteLock};
use crate::domain::accounts::{Account, DisplayName, Role, User, Username};
use crate::domain::audit::AuditAction;
use crate::domain::events::{EventKind, Origin};
use crate::store::audit::{insert_audit, NewAudit};
use crate::store::events::{account_event, insert_event, NewEvent};
use crate::store::revocations::revoke_user_pats;
use crate::store::sign_ins::delete_sign_ins;
use crate::time::{from_millis, to_millis};
use crate::tokens::storage::NewRevocation;
use chrono::{DateTime, Utc};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// A stored user is shown without its password hash.
impl From<UserRecord> for User {
    fn from(user: UserRecord) -> User {
        User {
            id: user.id,
            username: user.username,
            display_name: user.display_name,
            role: user.role,
            active: user.active,
            created_at: user.created_at,
        }
    }
}

pub struct NewUser<'a> {
    pub username: &'a Username,
    pub display_name: &'a DisplayName,
    pub password_hash: String,
    pub role: Role,
}

/// A change an administrator makes to a user's access; `None` leaves a field as it is.
/// Deactivation always ends the user's sessions and access tokens; `revoke_tokens` also
/// revokes their personal access tokens.
#[derive(Clone, Copy, Debug, Default)]
pub struct AccessChange {
    pub active: Option<bool>,
    pub role: Option<Role>,
    pub revoke_tokens: Option<NewRevocation>,
}

impl Store {
    pub async fn has_users(&self) -> StoreResult<bool> {
        let row = query("SELECT EXISTS (SELECT 1 FROM users) AS present")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("present")?)
    }

    /// Creates the first account as administrator; `AlreadySetUp` once any user exists.
    pub async fn create_first_admin(
        &self,
        user: NewUser<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<UserRecord> {
        let mut tx = self.pool.begin_write(WriteLock::Users).await?;
        let row = query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&mut tx)
            .await?;
        if row.try_get::<i64>("n")? > 0 {
            return Err(StoreError::AlreadySetUp);
        }
        let created = insert_user(&mut tx, user, now).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// `UsernameTaken` when the case-insensitive username exists.
    pub async fn add_user(
        &self,
        user: NewUser<'_>,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<UserRecord> {
        let mut tx = self.pool.begin().await?;
        let created = insert_user(&mut tx, user, now).await?;
        let audit = NewAudit {
            user_id: Some(created.id),
            detail: Some(created.role.as_str()),
            ..NewAudit::new(AuditAction::UserCreated, now, origin)
        };
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn user_by_id(&self, id: i64) -> StoreResult<Option<UserRecord>> {
        let row = query("SELECT * FROM users u WHERE u.id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    pub async fn user_by_username(&self, username_key: &str) -> StoreResult<Option<UserRecord>> {
        let sql = "SELECT * FROM users u WHERE u.username_key = $1";
        let row = query(sql)
            .bind(username_key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    pub async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        let rows = query("SELECT * FROM users u ORDER BY u.username_key")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(user_from_row)
            .collect::<sqlx::Result<_>>()?)
    }

    /// `NotFound`, or `LastAdmin` when the change would leave no active administrator.
    pub async fn update_user_access(
        &self,
        id: i64,
        change: AccessChange,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<UserRecord> {
        let mut tx = self.pool.begin_write(WriteLock::Users).await?;
        let row = query("SELECT * FROM users u WHERE u.id = $1")
            .bind(id)
            .fetch_optional(&mut tx)
            .await?;
        let mut user = row
            .as_ref()
            .map(user_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)?;
        let before = (user.active, user.role);
        let was_active_admin = user.active && user.role == Role::Admin;
        user.active = change.active.unwrap_or(user.active);
        user.role = change.role.unwrap_or(user.role);
        if was_active_admin && !(user.active && user.role == Role::Admin) {
            let row = query(
                "SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND active AND id <> $1",
            )
            .bind(id)
            .fetch_one(&mut tx)
            .await?;
            if row.try_get::<i64>("n")? == 0 {
                return Err(StoreError::LastAdmin);
            }
        }
        query("UPDATE users SET active = $1, role = $2 WHERE id = $3")
            .bind(user.active)
            .bind(user.role.as_str())
            .bind(id)
            .execute(&mut tx)
            .await?;
        let event = |kind, detail| NewEvent {
            user_id: id,
            kind,
            at: now,
            origin,
            token: None,
            detail,
        };
        if before.0 != user.active {
            let kind = if user.active {
                EventKind::AccountReactivated
            } else {
                EventKind::AccountDeactivated
            };
            insert_event(&mut tx, event(kind, None)).await?;
        }
        if before.1 != user.role {
            insert_event(
                &mut tx,
                event(EventKind::RoleChanged, Some(user.role.as_str())),
            )
            .await?;
        }
        if !user.active {
            delete_sign_ins(&mut tx, id).await?;
            if let Some(revocation) = change.revoke_tokens {
                revoke_user_pats(&mut tx, id, revocation, origin).await?;
            }
        }
        tx.commit().await?;
        Ok(user)
    }

    pub async fn set_display_name(
        &self,
        id: i64,
        name: &crate::domain::accounts::DisplayName,
    ) -> StoreResult<()> {
        query("UPDATE users SET display_name = $1 WHERE id = $2")
            .bind(name.as_str())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Replaces the password hash and ends every session but `keep_session` and every
    /// access token of the user.
    pub async fn set_password(
        &self,
        id: i64,
        password_hash: &str,
        keep_session: Option<&str>,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id)
            .execute(&mut tx)
            .await?;
        query("DELETE FROM sessions WHERE user_id = $1 AND digest <> $2")
            .bind(id)
            .bind(keep_session.unwrap_or(""))
            .execute(&mut tx)
            .await?;
        query("DELETE FROM access_tokens WHERE user_id = $1")
            .bind(id)
            .execute(&mut tx)
            .await?;
        insert_event(
            &mut tx,
            account_event(id, EventKind::PasswordChanged, now, origin),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

pub(super) fn account_from_row(row: &Row) -> sqlx::Result<Account> {
    let role: String = row.try_get("role")?;
    Ok(Account {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        role: Role::parse(&role).unwrap_or(Role::User),
        active: row.try_get("active")?,
        email: row.try_get("email")?,
        email_verified: row.try_get::<Option<i64>>("email_verified_at")?.is_some(),
    })
}

fn user_from_row(row: &Row) -> sqlx::Result<UserRecord> {
    let account = account_from_row(row)?;
    Ok(UserRecord {
        id: account.id,
        username: account.username,
        display_name: account.display_name,
        password_hash: row.try_get("password_hash")?,
        role: account.role,
        active: account.active,
        created_at: from_millis(row.try_get("created_at")?),
    })
}

async fn insert_user(
    conn: &mut Tx,
    user: NewUser<'_>,
    now: DateTime<Utc>,
) -> StoreResult<UserRecord> {
    let row = query(
        "INSERT INTO users \
           (username, username_key, display_name, password_hash, role, active, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(user.username.as_str())
    .bind(user.username.key())
    .bind(user.display_name.as_str())
    .bind(&user.password_hash)
    .bind(user.role.as_str())
    .bind(true)
    .bind(to_millis(now))
    .fetch_one(&mut *conn)
    .await
    .map_err(|error| {
        if is_unique_violation(&error) {
            StoreError::UsernameTaken
        } else {
            StoreError::Unavailable(error)
        }
    })?;
    Ok(UserRecord {
        id: row.try_get("id")?,
        username: user.username.as_str().to_owned(),
        display_name: user.display_name.as_str().to_owned(),
        password_hash: user.password_hash,
        role: user.role,
        active: true,
        created_at: from_millis(to_millis(now)),
    })
}
