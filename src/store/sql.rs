//! The SQL shared by both backends. The statements are identical (`$n` parameters work in
//! SQLite and PostgreSQL alike); what differs — connecting, migrations and how a writer takes
//! its lock — lives in each backend's `begin_write`. A macro instantiates the one
//! implementation per backend because sqlx's executor traits make a generic version unreadable.

macro_rules! impl_store {
    ($store:ty, $row:ty) => {
        use crate::accounts::rules::Role;
        use crate::store::{
            AccessChange, Account, AuditFilter, DeliveryOutcome, DeliveryRecord, NewNotice,
            NotificationSettings, OutboxItem, WebhookRecord, KindCount, Overview, OverviewQuery, PoolUsage, AuditRecord, ClientRecord, EventRecord, NewEvent, LoginFailures, LoginLimits, LoginReservation, NewPat,
            NewRevocation, NewUser, PatChange, PatCredential, PatRecord, Renewal, Revocation,
            InventoryEntry, InventoryFilter, RevokedPat, SeenAddress, SessionRecord, TokenActivity, UsageCount, MAX_ADDRESSES,
            StaleBefore, Store, StoreError, StoreResult, UserRecord, UserRef, WriteLock,
        };
        use crate::admin::audit_rules::AuditAction;
        use crate::events::rules::{EventKind, Origin};
        use crate::tokens::policy::{Policy, TokenCreators};
        use crate::time::{from_millis, to_millis};
        use crate::tokens::allowlist::AllowList;
        use crate::tokens::rules::{Access, RevokedReason, TokenError};
        use chrono::{DateTime, Utc};
        use sqlx::Row;

        const ACCOUNT_COLUMNS: &str = "u.id, u.username, u.display_name, u.role, u.active";
        const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.role, u.active, \
             u.password_hash, u.created_at";
        const PAT_COLUMNS: &str = "p.id AS pat_id, p.user_id AS pat_user_id, p.name, \
             p.description, p.hint, p.created_at AS pat_created_at, \
             COALESCE(p.issued_at, p.created_at) AS issued_at, p.expires_at, p.last_used_at, \
             p.access, p.allowed_ips, p.revoked_at, p.revoked_by, p.revoked_reason, \
             r.username AS revoked_by_username";
        /// The tokens with their revoker's name, for `PAT_COLUMNS`.
        const PAT_TABLES: &str =
            "personal_access_tokens p LEFT JOIN users r ON r.id = p.revoked_by";

        fn account_from_row(row: &$row) -> sqlx::Result<Account> {
            let role: String = row.try_get("role")?;
            Ok(Account {
                id: row.try_get("id")?,
                username: row.try_get("username")?,
                display_name: row.try_get("display_name")?,
                role: Role::parse(&role).unwrap_or(Role::User),
                active: row.try_get("active")?,
            })
        }

        fn user_from_row(row: &$row) -> sqlx::Result<UserRecord> {
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

        fn pat_from_row(row: &$row) -> sqlx::Result<PatRecord> {
            Ok(PatRecord {
                id: row.try_get("pat_id")?,
                user_id: row.try_get("pat_user_id")?,
                name: row.try_get("name")?,
                description: row.try_get("description")?,
                hint: row.try_get("hint")?,
                created_at: from_millis(row.try_get("pat_created_at")?),
                issued_at: from_millis(row.try_get("issued_at")?),
                expires_at: from_millis(row.try_get("expires_at")?),
                last_used_at: last_used_at(row)?,
                access: access(row)?,
                allowed_ips: AllowList::from_column(row.try_get("allowed_ips")?),
                revoked: revocation(row)?,
            })
        }

        fn client_from_row(row: &$row) -> sqlx::Result<ClientRecord> {
            Ok(ClientRecord {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                client_id: row.try_get("client_id")?,
                secret_digest: row.try_get("secret_digest")?,
                created_at: from_millis(row.try_get("created_at")?),
            })
        }

        fn access(row: &$row) -> sqlx::Result<Access> {
            Ok(Access::parse(row.try_get("access")?).unwrap_or(Access::Read))
        }

        fn revocation(row: &$row) -> sqlx::Result<Option<Revocation>> {
            let Some(at) = row.try_get::<Option<i64>, _>("revoked_at")? else {
                return Ok(None);
            };
            let by_id: Option<i64> = row.try_get("revoked_by")?;
            let by_name: Option<String> = row.try_get("revoked_by_username")?;
            let reason: Option<String> = row.try_get("revoked_reason")?;
            Ok(Some(Revocation {
                at: from_millis(at),
                by: by_id.zip(by_name).map(|(id, username)| UserRef { id, username }),
                reason: reason
                    .as_deref()
                    .and_then(RevokedReason::parse)
                    .unwrap_or(RevokedReason::Admin),
            }))
        }

        fn last_used_at(row: &$row) -> sqlx::Result<Option<DateTime<Utc>>> {
            Ok(row.try_get::<Option<i64>, _>("last_used_at")?.map(from_millis))
        }

        fn is_unique_violation(error: &sqlx::Error) -> bool {
            matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
        }

        #[async_trait::async_trait]
        impl Store for $store {
            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            fn pool_usage(&self) -> PoolUsage {
                PoolUsage {
                    size: self.pool.size(),
                    idle: self.pool.num_idle() as u32,
                    max: self.pool.options().get_max_connections(),
                }
            }

            async fn close(&self) {
                self.pool.close().await;
            }

            async fn has_users(&self) -> StoreResult<bool> {
                let row = sqlx::query("SELECT EXISTS (SELECT 1 FROM users) AS present")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(row.try_get("present")?)
            }

            async fn create_first_admin(
                &self,
                user: NewUser<'_>,
                now: DateTime<Utc>,
            ) -> StoreResult<UserRecord> {
                let mut tx = self.begin_write(WriteLock::Users).await?;
                let row = sqlx::query("SELECT COUNT(*) AS n FROM users")
                    .fetch_one(&mut *tx)
                    .await?;
                if row.try_get::<i64, _>("n")? > 0 {
                    return Err(StoreError::AlreadySetUp);
                }
                let created = insert_user(&mut *tx, user, now).await?;
                tx.commit().await?;
                Ok(created)
            }

            async fn create_user(
                &self,
                user: NewUser<'_>,
                now: DateTime<Utc>,
                origin: &Origin,
            ) -> StoreResult<UserRecord> {
                let mut tx = self.pool.begin().await?;
                let created = insert_user(&mut *tx, user, now).await?;
                let audit = NewAudit {
                    user_id: Some(created.id),
                    detail: Some(created.role.as_str()),
                    ..NewAudit::new(AuditAction::UserCreated, now, origin)
                };
                insert_audit(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(created)
            }

            async fn user_by_id(&self, id: i64) -> StoreResult<Option<UserRecord>> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
                let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
                Ok(row.as_ref().map(user_from_row).transpose()?)
            }

            async fn user_by_username(
                &self,
                username_key: &str,
            ) -> StoreResult<Option<UserRecord>> {
                let sql =
                    format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username_key = $1");
                let row = sqlx::query(&sql)
                    .bind(username_key)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.as_ref().map(user_from_row).transpose()?)
            }

            async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.username_key");
                let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
                Ok(rows.iter().map(user_from_row).collect::<sqlx::Result<_>>()?)
            }

            async fn update_user_access(
                &self,
                id: i64,
                change: AccessChange,
                now: DateTime<Utc>,
                origin: &Origin,
            ) -> StoreResult<UserRecord> {
                let mut tx = self.begin_write(WriteLock::Users).await?;
                let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
                let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *tx).await?;
                let mut user = row.as_ref().map(user_from_row).transpose()?.ok_or(StoreError::NotFound)?;
                let before = (user.active, user.role);
                let was_active_admin = user.active && user.role == Role::Admin;
                user.active = change.active.unwrap_or(user.active);
                user.role = change.role.unwrap_or(user.role);
                if was_active_admin && !(user.active && user.role == Role::Admin) {
                    let row = sqlx::query(
                        "SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND active AND id <> $1",
                    )
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                    if row.try_get::<i64, _>("n")? == 0 {
                        return Err(StoreError::LastAdmin);
                    }
                }
                sqlx::query("UPDATE users SET active = $1, role = $2 WHERE id = $3")
                    .bind(user.active)
                    .bind(user.role.as_str())
                    .bind(id)
                    .execute(&mut *tx)
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
                    insert_event(&mut *tx, event(kind, None)).await?;
                }
                if before.1 != user.role {
                    insert_event(&mut *tx, event(EventKind::RoleChanged, Some(user.role.as_str())))
                        .await?;
                }
                if !user.active {
                    delete_sign_ins(&mut *tx, id).await?;
                    if let Some(revocation) = change.revoke_tokens {
                        revoke_user_pats(&mut *tx, id, revocation, origin).await?;
                    }
                }
                tx.commit().await?;
                Ok(user)
            }

            async fn set_display_name(
                &self,
                id: i64,
                name: &crate::accounts::rules::DisplayName,
            ) -> StoreResult<()> {
                sqlx::query("UPDATE users SET display_name = $1 WHERE id = $2")
                    .bind(name.as_str())
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn set_password(
                &self,
                id: i64,
                password_hash: &str,
                keep_session: Option<&str>,
                now: DateTime<Utc>,
                origin: &Origin,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                    .bind(password_hash)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND digest <> $2")
                    .bind(id)
                    .bind(keep_session.unwrap_or(""))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM access_tokens WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                insert_event(&mut *tx, account_event(id, EventKind::PasswordChanged, now, origin))
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_session(
                &self,
                digest: &str,
                user_id: i64,
                now: DateTime<Utc>,
                origin: &Origin,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO sessions (digest, user_id, created_at, last_seen_at) \
                     VALUES ($1, $2, $3, $3)",
                )
                .bind(digest)
                .bind(user_id)
                .bind(to_millis(now))
                .execute(&mut *tx)
                .await?;
                insert_event(&mut *tx, account_event(user_id, EventKind::SignedIn, now, origin))
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn session(
                &self,
                digest: &str,
            ) -> StoreResult<Option<(SessionRecord, Account)>> {
                let sql = format!(
                    "SELECT {ACCOUNT_COLUMNS}, s.created_at AS session_created_at, s.last_seen_at \
                     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.digest = $1"
                );
                let Some(row) = sqlx::query(&sql).bind(digest).fetch_optional(&self.pool).await?
                else {
                    return Ok(None);
                };
                let user = account_from_row(&row)?;
                let session = SessionRecord {
                    user_id: user.id,
                    created_at: from_millis(row.try_get("session_created_at")?),
                    last_seen_at: from_millis(row.try_get("last_seen_at")?),
                };
                Ok(Some((session, user)))
            }

            async fn touch_session(&self, digest: &str, now: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE digest = $2")
                    .bind(to_millis(now))
                    .bind(digest)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_session(&self, digest: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM sessions WHERE digest = $1")
                    .bind(digest)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn sign_out(
                &self,
                digest: &str,
                now: DateTime<Utc>,
                origin: &Origin,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let ended = sqlx::query("DELETE FROM sessions WHERE digest = $1 RETURNING user_id")
                    .bind(digest)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(row) = ended {
                    let user_id = row.try_get("user_id")?;
                    insert_event(&mut *tx, account_event(user_id, EventKind::SignedOut, now, origin))
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn create_access_token(
                &self,
                digest: &str,
                user_id: i64,
                now: DateTime<Utc>,
                expires_at: DateTime<Utc>,
                origin: &Origin,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let mut event = account_event(user_id, EventKind::SignedIn, now, origin);
                event.detail = Some("access_token");
                insert_event(&mut *tx, event).await?;
                sqlx::query(
                    "INSERT INTO access_tokens (digest, user_id, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(digest)
                .bind(user_id)
                .bind(to_millis(now))
                .bind(to_millis(expires_at))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn access_token(
                &self,
                digest: &str,
            ) -> StoreResult<Option<(DateTime<Utc>, Account)>> {
                let sql = format!(
                    "SELECT {ACCOUNT_COLUMNS}, a.expires_at \
                     FROM access_tokens a JOIN users u ON u.id = a.user_id WHERE a.digest = $1"
                );
                let Some(row) = sqlx::query(&sql).bind(digest).fetch_optional(&self.pool).await?
                else {
                    return Ok(None);
                };
                Ok(Some((from_millis(row.try_get("expires_at")?), account_from_row(&row)?)))
            }

            async fn reserve_login_attempt(
                &self,
                username_key: &str,
                client: &str,
                now: DateTime<Utc>,
                limits: LoginLimits,
            ) -> StoreResult<Result<LoginReservation, LoginFailures>> {
                // Over the limit already: refused from a plain read, without waiting for the
                // lock, so a flood of refused attempts holds no connection for long.
                let mut conn = self.pool.acquire().await?;
                let failures = login_failures(&mut *conn, username_key, client, limits).await?;
                drop(conn);
                if !failures.allow(&limits) {
                    return Ok(Err(failures));
                }
                let mut tx = self.begin_write(WriteLock::LoginAttempts).await?;
                let failures = login_failures(&mut *tx, username_key, client, limits).await?;
                if !failures.allow(&limits) {
                    tx.rollback().await?;
                    return Ok(Err(failures));
                }
                let row = sqlx::query(
                    "INSERT INTO login_failures (username_key, client, at) VALUES ($1, $2, $3) \
                     RETURNING id",
                )
                .bind(username_key)
                .bind(client)
                .bind(to_millis(now))
                .fetch_one(&mut *tx)
                .await?;
                let id: i64 = row.try_get("id")?;
                tx.commit().await?;
                Ok(Ok(LoginReservation(id)))
            }

            async fn cancel_login_attempt(&self, reservation: LoginReservation) -> StoreResult<()> {
                sqlx::query("DELETE FROM login_failures WHERE id = $1")
                    .bind(reservation.0)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn create_pat(
                &self,
                pat: NewPat<'_>,
                now: DateTime<Utc>,
                limit: usize,
                origin: &Origin,
            ) -> StoreResult<PatRecord> {
                let mut tx = self.begin_write(WriteLock::User(pat.user_id)).await?;
                // A request authenticated just before its owner was deactivated must not leave
                // a token behind: the owner is checked again under the lock.
                let owner = sqlx::query("SELECT active FROM users WHERE id = $1")
                    .bind(pat.user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if !owner.map(|row| row.try_get::<bool, _>("active")).transpose()?.unwrap_or(false) {
                    tx.rollback().await?;
                    return Err(StoreError::NotFound);
                }
                let row = sqlx::query(
                    "SELECT COUNT(*) AS active, \
                       COALESCE(SUM(CASE WHEN name_key = $3 THEN 1 ELSE 0 END), 0) AS same_name \
                     FROM personal_access_tokens \
                     WHERE user_id = $1 AND expires_at > $2 AND revoked_at IS NULL",
                )
                .bind(pat.user_id)
                .bind(to_millis(now))
                .bind(pat.name.key())
                .fetch_one(&mut *tx)
                .await?;
                // Refusals roll back before answering: a transaction merely dropped is rolled
                // back later, and SQLite's pool would discard the connection meanwhile.
                if row.try_get::<i64, _>("active")? >= limit as i64 {
                    tx.rollback().await?;
                    return Err(StoreError::Token(TokenError::LimitReached(limit)));
                }
                if row.try_get::<i64, _>("same_name")? > 0 {
                    tx.rollback().await?;
                    return Err(StoreError::Token(TokenError::DuplicateName(
                        pat.name.as_str().to_owned(),
                    )));
                }
                let row = sqlx::query(
                    "INSERT INTO personal_access_tokens \
                       (user_id, name, name_key, description, digest, hint, created_at, expires_at, \
                        access, allowed_ips) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                )
                .bind(pat.user_id)
                .bind(pat.name.as_str())
                .bind(pat.name.key())
                .bind(pat.description.as_str())
                .bind(&pat.digest)
                .bind(&pat.hint)
                .bind(to_millis(now))
                .bind(to_millis(pat.expires_at))
                .bind(pat.access.as_str())
                .bind(pat.allowed_ips.to_column())
                .fetch_one(&mut *tx)
                .await?;
                let id: i64 = row.try_get("id")?;
                let event = token_event(pat.user_id, EventKind::TokenCreated, now, origin, (id, pat.name.as_str()));
                insert_event(&mut *tx, event).await?;
                tx.commit().await?;
                Ok(PatRecord {
                    id,
                    user_id: pat.user_id,
                    name: pat.name.as_str().to_owned(),
                    description: pat.description.as_str().to_owned(),
                    hint: pat.hint,
                    created_at: from_millis(to_millis(now)),
                    issued_at: from_millis(to_millis(now)),
                    expires_at: from_millis(to_millis(pat.expires_at)),
                    last_used_at: None,
                    access: pat.access,
                    allowed_ips: pat.allowed_ips.clone(),
                    revoked: None,
                })
            }

            async fn list_pats(&self, user_id: i64) -> StoreResult<Vec<PatRecord>> {
                let sql = format!(
                    "SELECT {PAT_COLUMNS} FROM {PAT_TABLES} \
                     WHERE p.user_id = $1 ORDER BY p.created_at DESC, p.id DESC"
                );
                let rows = sqlx::query(&sql).bind(user_id).fetch_all(&self.pool).await?;
                Ok(rows.iter().map(pat_from_row).collect::<sqlx::Result<_>>()?)
            }

            async fn update_pat(
                &self,
                user_id: i64,
                id: i64,
                change: PatChange,
                now: DateTime<Utc>,
                origin: &Origin,
            ) -> StoreResult<Option<PatRecord>> {
                let mut tx = self.begin_write(WriteLock::User(user_id)).await?;
                let Some(mut token) = pat_of_user(&mut *tx, user_id, id).await? else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                if let Some(name) = &change.name {
                    let row = sqlx::query(
                        "SELECT COUNT(*) AS n FROM personal_access_tokens \
                         WHERE user_id = $1 AND id <> $2 AND name_key = $3 \
                           AND expires_at > $4 AND revoked_at IS NULL",
                    )
                    .bind(user_id)
                    .bind(id)
                    .bind(name.key())
                    .bind(to_millis(now))
                    .fetch_one(&mut *tx)
                    .await?;
                    let active = token.revoked.is_none() && token.expires_at > now;
                    if active && row.try_get::<i64, _>("n")? > 0 {
                        tx.rollback().await?;
                        return Err(StoreError::Token(TokenError::DuplicateName(
                            name.as_str().to_owned(),
                        )));
                    }
                    token.name = name.as_str().to_owned();
                }
                if let Some(description) = &change.description {
                    token.description = description.as_str().to_owned();
                }
                token.access = change.access.unwrap_or(token.access);
                if let Some(allowed_ips) = change.allowed_ips {
                    token.allowed_ips = allowed_ips;
                }
                sqlx::query(
                    "UPDATE personal_access_tokens \
                     SET name = $1, name_key = $2, description = $3, access = $4, allowed_ips = $5 \
                     WHERE id = $6",
                )
                .bind(&token.name)
                .bind(token.name.to_lowercase())
                .bind(&token.description)
                .bind(token.access.as_str())
                .bind(token.allowed_ips.to_column())
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let event = token_event(user_id, EventKind::TokenEdited, now, origin, (id, &token.name));
                insert_event(&mut *tx, event).await?;
                tx.commit().await?;
                Ok(Some(token))
            }

            async fn regenerate_pat(
                &self,
                user_id: i64,
                id: i64,
                renewal: Renewal,
                now: DateTime<Utc>,
                limit: usize,
                origin: &Origin,
            ) -> StoreResult<Option<PatRecord>> {
                let mut tx = self.begin_write(WriteLock::User(user_id)).await?;
                let Some(mut token) = pat_of_user(&mut *tx, user_id, id).await? else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                if let Some(revocation) = &token.revoked {
                    if !revocation.reason.allows_regeneration() {
                        tx.rollback().await?;
                        return Err(StoreError::Token(TokenError::NotRegenerable(
                            revocation.reason,
                        )));
                    }
                }
                let active = token.revoked.is_none() && token.expires_at > now;
                if !active {
                    // Coming back to life: within the limit, under a name no active token has.
                    let row = sqlx::query(
                        "SELECT COUNT(*) AS active, \
                           COALESCE(SUM(CASE WHEN name_key = $3 THEN 1 ELSE 0 END), 0) AS same_name \
                         FROM personal_access_tokens \
                         WHERE user_id = $1 AND expires_at > $2 AND revoked_at IS NULL AND id <> $4",
                    )
                    .bind(user_id)
                    .bind(to_millis(now))
                    .bind(token.name.to_lowercase())
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                    let refusal = if row.try_get::<i64, _>("active")? >= limit as i64 {
                        Some(TokenError::LimitReached(limit))
                    } else if row.try_get::<i64, _>("same_name")? > 0 {
                        Some(TokenError::DuplicateName(token.name.clone()))
                    } else {
                        None
                    };
                    if let Some(refusal) = refusal {
                        tx.rollback().await?;
                        return Err(StoreError::Token(refusal));
                    }
                }
                sqlx::query(
                    "UPDATE personal_access_tokens \
                     SET digest = $1, hint = $2, expires_at = $3, issued_at = $4, \
                         revoked_at = NULL, revoked_by = NULL, revoked_reason = NULL, \
                         expiry_logged = FALSE \
                     WHERE id = $5",
                )
                .bind(&renewal.digest)
                .bind(&renewal.hint)
                .bind(to_millis(renewal.expires_at))
                .bind(to_millis(now))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let event = token_event(user_id, EventKind::TokenRegenerated, now, origin, (id, &token.name));
                insert_event(&mut *tx, event).await?;
                tx.commit().await?;
                token.hint = renewal.hint;
                token.expires_at = from_millis(to_millis(renewal.expires_at));
                token.issued_at = from_millis(to_millis(now));
                token.revoked = None;
                Ok(Some(token))
            }

            async fn revoke_pat(
                &self,
                id: i64,
                revocation: NewRevocation,
                origin: &Origin,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let row = sqlx::query(
                    "UPDATE personal_access_tokens \
                     SET revoked_at = $1, revoked_by = $2, revoked_reason = $3 \
                     WHERE id = $4 AND revoked_at IS NULL \
                     RETURNING id, user_id, name, hint",
                )
                .bind(to_millis(revocation.at))
                .bind(revocation.by)
                .bind(revocation.reason.as_str())
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    tx.rollback().await?;
                    return Ok(false);
                };
                log_revocation(&mut *tx, &row, revocation, origin).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn record_pat_address(
                &self,
                token_id: i64,
                ip: &str,
                at: DateTime<Utc>,
                origin: &Origin,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                // A token used from an address it does not know yet: its owner hears of it.
                let unknown = sqlx::query(
                    "SELECT p.user_id, p.name FROM personal_access_tokens p WHERE p.id = $1 \
                     AND NOT EXISTS (SELECT 1 FROM token_addresses a \
                                     WHERE a.token_id = p.id AND a.ip = $2)",
                )
                .bind(token_id)
                .bind(ip)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(row) = unknown {
                    let name: String = row.try_get("name")?;
                    let event = token_event(
                        row.try_get("user_id")?,
                        EventKind::TokenUsedFromNewAddress,
                        at,
                        origin,
                        (token_id, &name),
                    );
                    insert_event(&mut *tx, event).await?;
                }
                sqlx::query(
                    "INSERT INTO token_addresses (token_id, ip, last_seen_at) \
                     SELECT $1, $2, $3 WHERE EXISTS \
                       (SELECT 1 FROM personal_access_tokens WHERE id = $1) \
                     ON CONFLICT (token_id, ip) DO UPDATE SET last_seen_at = excluded.last_seen_at",
                )
                .bind(token_id)
                .bind(ip)
                .bind(to_millis(at))
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "DELETE FROM token_addresses WHERE token_id = $1 AND ip NOT IN \
                       (SELECT ip FROM token_addresses WHERE token_id = $1 \
                        ORDER BY last_seen_at DESC, ip LIMIT $2)",
                )
                .bind(token_id)
                .bind(MAX_ADDRESSES)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn add_pat_usage(&self, counts: &[UsageCount]) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                for count in counts {
                    sqlx::query(
                        "INSERT INTO token_usage (token_id, day, requests) \
                         SELECT $1, $2, $3 WHERE EXISTS \
                           (SELECT 1 FROM personal_access_tokens WHERE id = $1) \
                         ON CONFLICT (token_id, day) \
                         DO UPDATE SET requests = token_usage.requests + excluded.requests",
                    )
                    .bind(count.token_id)
                    .bind(count.day)
                    .bind(count.requests)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn add_request_counts(&self, counts: &[KindCount]) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                for count in counts {
                    sqlx::query(
                        "INSERT INTO request_counts (day, kind, requests) VALUES ($1, $2, $3) \
                         ON CONFLICT (day, kind) \
                         DO UPDATE SET requests = request_counts.requests + excluded.requests",
                    )
                    .bind(count.day)
                    .bind(count.kind)
                    .bind(count.requests)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn overview(&self, query: OverviewQuery) -> StoreResult<Overview> {
                let row = sqlx::query(
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
                .bind(to_millis(query.now))
                .bind(to_millis(query.expiring_before))
                .bind(to_millis(query.unused_since))
                .bind(to_millis(query.month_start))
                .fetch_one(&self.pool)
                .await?;
                let rows = sqlx::query(
                    "SELECT day, kind, requests FROM request_counts WHERE day >= $1 \
                     ORDER BY day, kind",
                )
                .bind(query.since_day)
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
                        .map(|row| Ok((row.try_get("day")?, row.try_get("kind")?, row.try_get("requests")?)))
                        .collect::<sqlx::Result<_>>()?,
                })
            }

            async fn pat_activity(&self, user_id: i64, since_day: i64) -> StoreResult<TokenActivity> {
                let mut activity = TokenActivity::default();
                let rows = sqlx::query(
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
                let rows = sqlx::query(
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

            async fn inventory(
                &self,
                filter: &InventoryFilter,
                now: DateTime<Utc>,
            ) -> StoreResult<Vec<InventoryEntry>> {
                // Each filter is a parameter that is either NULL (left out) or applies; the casts
                // give both backends the parameter's type when it is NULL.
                let sql = format!(
                    "SELECT {PAT_COLUMNS}, o.username AS owner_username, \
                       (SELECT a.ip FROM token_addresses a WHERE a.token_id = p.id \
                        ORDER BY a.last_seen_at DESC LIMIT 1) AS last_ip \
                     FROM {PAT_TABLES} JOIN users o ON o.id = p.user_id \
                     WHERE (CAST($1 AS BIGINT) IS NULL OR p.user_id = $1) \
                       AND (CAST($2 AS TEXT) IS NULL \
                         OR ($2 = 'active' AND p.revoked_at IS NULL AND p.expires_at > $3) \
                         OR ($2 = 'expired' AND p.revoked_at IS NULL AND p.expires_at <= $3) \
                         OR ($2 = 'revoked' AND p.revoked_at IS NOT NULL)) \
                       AND (CAST($4 AS BIGINT) IS NULL \
                         OR (p.revoked_at IS NULL AND p.expires_at > $3 AND p.expires_at <= $4)) \
                       AND (CAST($5 AS BIGINT) IS NULL \
                         OR COALESCE(p.last_used_at, p.created_at) <= $5) \
                       AND (CAST($6 AS BIGINT) IS NULL OR CASE CAST($8 AS TEXT) \
                         WHEN 'expires' THEN (p.expires_at, p.id) > \
                           (SELECT c.expires_at, c.id FROM personal_access_tokens c WHERE c.id = $6) \
                         WHEN 'last_used' THEN (COALESCE(p.last_used_at, 0), p.id) > \
                           (SELECT COALESCE(c.last_used_at, 0), c.id \
                            FROM personal_access_tokens c WHERE c.id = $6) \
                         ELSE p.id < $6 END) \
                     ORDER BY CASE CAST($8 AS TEXT) WHEN 'expires' THEN p.expires_at \
                                WHEN 'last_used' THEN COALESCE(p.last_used_at, 0) END, \
                              CASE WHEN CAST($8 AS TEXT) = 'newest' THEN NULL ELSE p.id END, \
                              p.id DESC \
                     LIMIT $7"
                );
                let rows = sqlx::query(&sql)
                    .bind(filter.user_id)
                    .bind(filter.status.map(|status| status.as_str()))
                    .bind(to_millis(now))
                    .bind(filter.expires_before.map(to_millis))
                    .bind(filter.unused_since.map(to_millis))
                    .bind(filter.before_id)
                    .bind(filter.limit)
                    .bind(filter.sort.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|row| {
                        let token = pat_from_row(row)?;
                        Ok(InventoryEntry {
                            owner: UserRef {
                                id: token.user_id,
                                username: row.try_get("owner_username")?,
                            },
                            last_ip: row.try_get("last_ip")?,
                            token,
                        })
                    })
                    .collect::<sqlx::Result<_>>()
                    .map_err(StoreError::from)
            }

            async fn revoke_leaked_pats(
                &self,
                digests: &[String],
                revocation: NewRevocation,
                origin: &Origin,
            ) -> StoreResult<Vec<RevokedPat>> {
                let mut tx = self.pool.begin().await?;
                let mut revoked = Vec::new();
                for digest in digests {
                    let row = sqlx::query(
                        "UPDATE personal_access_tokens \
                         SET revoked_at = $1, revoked_by = $2, revoked_reason = $3 \
                         WHERE digest = $4 AND revoked_at IS NULL AND expires_at > $1 \
                         RETURNING id, user_id, name, hint",
                    )
                    .bind(to_millis(revocation.at))
                    .bind(revocation.by)
                    .bind(revocation.reason.as_str())
                    .bind(digest)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if let Some(row) = row {
                        log_revocation(&mut *tx, &row, revocation, origin).await?;
                        revoked.push(RevokedPat {
                            id: row.try_get("id")?,
                            user_id: row.try_get("user_id")?,
                            hint: row.try_get("hint")?,
                        });
                    }
                }
                tx.commit().await?;
                Ok(revoked)
            }

            async fn revoke_user_pats(
                &self,
                user_id: i64,
                revocation: NewRevocation,
                origin: &Origin,
            ) -> StoreResult<u64> {
                let mut tx = self.begin_write(WriteLock::User(user_id)).await?;
                let revoked = revoke_user_pats(&mut *tx, user_id, revocation, origin).await?;
                let count = format!("{revoked} tokens revoked");
                let audit = NewAudit {
                    user_id: Some(user_id),
                    detail: Some(&count),
                    ..NewAudit::new(AuditAction::CredentialsRevoked, revocation.at, origin)
                };
                insert_audit(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(revoked)
            }

            async fn end_sign_ins(&self, user_id: i64) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                delete_sign_ins(&mut *tx, user_id).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn delete_pat(
                &self,
                user_id: i64,
                id: i64,
                now: DateTime<Utc>,
                origin: &Origin,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let deleted = sqlx::query(
                    "DELETE FROM personal_access_tokens WHERE id = $1 AND user_id = $2 \
                     RETURNING name",
                )
                .bind(id)
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = deleted else {
                    tx.rollback().await?;
                    return Ok(false);
                };
                let name: String = row.try_get("name")?;
                let event = token_event(user_id, EventKind::TokenDeleted, now, origin, (id, &name));
                insert_event(&mut *tx, event).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn pat(&self, digest: &str) -> StoreResult<Option<(PatCredential, Account)>> {
                let sql = format!(
                    "SELECT p.id AS pat_id, p.name, COALESCE(p.issued_at, p.created_at) AS issued_at, \
                     p.expires_at, \
                     p.last_used_at, p.access, \
                     p.allowed_ips, {ACCOUNT_COLUMNS} FROM personal_access_tokens p \
                     JOIN users u ON u.id = p.user_id \
                     WHERE p.digest = $1 AND p.revoked_at IS NULL"
                );
                let Some(row) = sqlx::query(&sql).bind(digest).fetch_optional(&self.pool).await?
                else {
                    return Ok(None);
                };
                let pat = PatCredential {
                    id: row.try_get("pat_id")?,
                    name: row.try_get("name")?,
                    issued_at: from_millis(row.try_get("issued_at")?),
                    expires_at: from_millis(row.try_get("expires_at")?),
                    last_used_at: last_used_at(&row)?,
                    access: access(&row)?,
                    allowed_ips: AllowList::from_column(row.try_get("allowed_ips")?),
                };
                Ok(Some((pat, account_from_row(&row)?)))
            }

            async fn touch_pat(
                &self,
                id: i64,
                now: DateTime<Utc>,
                unless_used_after: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE personal_access_tokens SET last_used_at = $1 \
                     WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)",
                )
                .bind(to_millis(now))
                .bind(id)
                .bind(to_millis(unless_used_after))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn delete_stale(&self, before: StaleBefore) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("DELETE FROM sessions WHERE created_at < $1 OR last_seen_at < $2")
                    .bind(to_millis(before.session_created))
                    .bind(to_millis(before.session_seen))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM access_tokens WHERE expires_at < $1")
                    .bind(to_millis(before.access_token_expired))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM login_failures WHERE at < $1")
                    .bind(to_millis(before.login_failure))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM security_events WHERE at < $1")
                    .bind(to_millis(before.security_event))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn backup(&self, path: &std::path::Path) -> StoreResult<()> {
                self.backup_to(path).await
            }

            async fn record_event(&self, event: NewEvent<'_>) -> StoreResult<()> {
                let mut conn = self.pool.acquire().await?;
                insert_event(&mut *conn, event).await
            }

            async fn events(
                &self,
                user_id: i64,
                before_id: Option<i64>,
                limit: i64,
            ) -> StoreResult<Vec<EventRecord>> {
                let rows = sqlx::query(
                    "SELECT e.id, e.kind, e.at, e.client_ip, e.user_agent, e.token_id, \
                       e.token_name, e.detail, a.id AS actor_id, a.username AS actor_username \
                     FROM security_events e LEFT JOIN users a \
                       ON a.id = e.actor_id AND e.actor_id <> e.user_id \
                     WHERE e.user_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR e.id < $2) \
                     ORDER BY e.id DESC LIMIT $3",
                )
                .bind(user_id)
                .bind(before_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let mut events = Vec::with_capacity(rows.len());
                for row in &rows {
                    // A kind this version does not know (written by a newer one) is left out.
                    let Some(kind) = EventKind::parse(row.try_get("kind")?) else {
                        continue;
                    };
                    let actor_id: Option<i64> = row.try_get("actor_id")?;
                    let actor_name: Option<String> = row.try_get("actor_username")?;
                    events.push(EventRecord {
                        id: row.try_get("id")?,
                        kind,
                        at: from_millis(row.try_get("at")?),
                        client_ip: row.try_get("client_ip")?,
                        user_agent: row.try_get("user_agent")?,
                        token_id: row.try_get("token_id")?,
                        token_name: row.try_get("token_name")?,
                        actor: actor_id.zip(actor_name).map(|(id, username)| UserRef { id, username }),
                        detail: row.try_get("detail")?,
                    });
                }
                Ok(events)
            }

            async fn log_expired_pats(&self, now: DateTime<Utc>) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                let rows = sqlx::query(
                    "UPDATE personal_access_tokens SET expiry_logged = TRUE \
                     WHERE NOT expiry_logged AND revoked_at IS NULL AND expires_at <= $1 \
                     RETURNING id, user_id, name, expires_at",
                )
                .bind(to_millis(now))
                .fetch_all(&mut *tx)
                .await?;
                let origin = Origin::patio("Patio");
                for row in &rows {
                    let name: String = row.try_get("name")?;
                    let event = token_event(
                        row.try_get("user_id")?,
                        EventKind::TokenExpired,
                        from_millis(row.try_get("expires_at")?),
                        &origin,
                        (row.try_get("id")?, &name),
                    );
                    insert_event(&mut *tx, event).await?;
                }
                tx.commit().await?;
                Ok(rows.len() as u64)
            }

            async fn notification_settings(&self, user_id: i64) -> StoreResult<NotificationSettings> {
                let row = sqlx::query(
                    "SELECT u.email, u.email_verified_at, u.calendar_feed_digest, \
                       w.url, w.secret, w.created_at AS webhook_created_at \
                     FROM users u LEFT JOIN webhooks w ON w.user_id = u.id WHERE u.id = $1",
                )
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
                let url: Option<String> = row.try_get("url")?;
                let webhook = match url {
                    Some(url) => Some(WebhookRecord {
                        url,
                        secret: row.try_get("secret")?,
                        created_at: from_millis(row.try_get("webhook_created_at")?),
                    }),
                    None => None,
                };
                Ok(NotificationSettings {
                    email: row.try_get("email")?,
                    email_verified: row.try_get::<Option<i64>, _>("email_verified_at")?.is_some(),
                    webhook,
                    has_calendar_feed: row.try_get::<Option<String>, _>("calendar_feed_digest")?.is_some(),
                })
            }

            async fn set_email(
                &self,
                user_id: i64,
                email: Option<&str>,
                verification: Option<(&str, DateTime<Utc>)>,
                now: DateTime<Utc>,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("UPDATE users SET email = $1, email_verified_at = NULL WHERE id = $2")
                    .bind(email)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM email_verifications WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                // Undelivered mail to the old address is not sent any more.
                sqlx::query(
                    "UPDATE outbox SET failed_at = $2, last_status = 'the address changed' \
                     WHERE user_id = $1 AND channel = 'mail' AND sent_at IS NULL AND failed_at IS NULL",
                )
                .bind(user_id)
                .bind(to_millis(now))
                .execute(&mut *tx)
                .await?;
                if let (Some(email), Some((digest, expires_at))) = (email, verification) {
                    sqlx::query(
                        "INSERT INTO email_verifications (digest, user_id, email, expires_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(digest)
                    .bind(user_id)
                    .bind(email)
                    .bind(to_millis(expires_at))
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn verify_email(&self, digest: &str, now: DateTime<Utc>) -> StoreResult<Option<i64>> {
                let mut tx = self.pool.begin().await?;
                let used = sqlx::query(
                    "DELETE FROM email_verifications WHERE digest = $1 \
                     RETURNING user_id, email, expires_at",
                )
                .bind(digest)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = used else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                let user_id: i64 = row.try_get("user_id")?;
                let email: String = row.try_get("email")?;
                if row.try_get::<i64, _>("expires_at")? <= to_millis(now) {
                    tx.commit().await?;
                    return Ok(None);
                }
                let verified = sqlx::query(
                    "UPDATE users SET email_verified_at = $1 WHERE id = $2 AND email = $3",
                )
                .bind(to_millis(now))
                .bind(user_id)
                .bind(&email)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok((verified.rows_affected() > 0).then_some(user_id))
            }

            async fn set_webhook(
                &self,
                user_id: i64,
                url: &str,
                secret: &str,
                now: DateTime<Utc>,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("DELETE FROM webhooks WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO webhooks (user_id, url, secret, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(user_id)
                .bind(url)
                .bind(secret)
                .bind(to_millis(now))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn delete_webhook(&self, user_id: i64) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM webhooks WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn set_calendar_feed(&self, user_id: i64, digest: Option<&str>) -> StoreResult<()> {
                sqlx::query("UPDATE users SET calendar_feed_digest = $1 WHERE id = $2")
                    .bind(digest)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn calendar_feed_owner(&self, digest: &str) -> StoreResult<Option<i64>> {
                let row = sqlx::query(
                    "SELECT id FROM users WHERE calendar_feed_digest = $1 AND active",
                )
                .bind(digest)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|row| row.try_get("id")).transpose()?)
            }

            async fn enqueue_verification(
                &self,
                user_id: i64,
                email: &str,
                key: &str,
                payload: &str,
                now: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
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

            async fn enqueue_notice(&self, notice: NewNotice<'_>) -> StoreResult<u64> {
                let mut conn = self.pool.acquire().await?;
                enqueue(&mut *conn, notice).await
            }

            async fn enqueue_expiry_reminders(&self, now: DateTime<Utc>) -> StoreResult<u64> {
                use crate::notify::rules::NoticeKind;
                let day = chrono::Duration::days(1);
                let rows = sqlx::query(
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
                    queued += enqueue(&mut *tx, notice).await?;
                }
                tx.commit().await?;
                Ok(queued)
            }

            async fn claim_outbox(
                &self,
                now: DateTime<Utc>,
                lease_until: DateTime<Utc>,
                limit: i64,
            ) -> StoreResult<Vec<OutboxItem>> {
                // The conditions are repeated outside the subquery: PostgreSQL checks them again
                // on a row another sender has just claimed, and skips it.
                let rows = sqlx::query(
                    "UPDATE outbox SET claimed_until = $2, attempts = attempts + 1 \
                     WHERE id IN (SELECT id FROM outbox \
                                  WHERE sent_at IS NULL AND failed_at IS NULL \
                                    AND next_attempt_at <= $1 \
                                    AND (claimed_until IS NULL OR claimed_until <= $1) \
                                  ORDER BY id LIMIT $3) \
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

            async fn finish_outbox(
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
                sqlx::query(
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

            async fn deliveries(&self, user_id: i64, limit: i64) -> StoreResult<Vec<DeliveryRecord>> {
                let rows = sqlx::query(
                    "SELECT id, channel, kind, created_at, attempts, sent_at, failed_at, last_status \
                     FROM outbox WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(user_id)
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
                            sent_at: row.try_get::<Option<i64>, _>("sent_at")?.map(from_millis),
                            failed_at: row.try_get::<Option<i64>, _>("failed_at")?.map(from_millis),
                            last_status: row.try_get("last_status")?,
                        })
                    })
                    .collect::<sqlx::Result<_>>()
                    .map_err(StoreError::from)
            }

            async fn audit(&self, filter: AuditFilter) -> StoreResult<Vec<AuditRecord>> {
                let rows = sqlx::query(
                    "SELECT l.id, l.at, l.action, l.token_id, l.token_name, l.detail, \
                       l.client_ip, l.user_agent, a.id AS actor_id, a.username AS actor_username, \
                       u.id AS subject_id, u.username AS subject_username \
                     FROM audit_log l \
                       LEFT JOIN users a ON a.id = l.actor_id \
                       LEFT JOIN users u ON u.id = l.user_id \
                     WHERE (CAST($1 AS BIGINT) IS NULL OR l.actor_id = $1) \
                       AND (CAST($2 AS TEXT) IS NULL OR l.action = $2) \
                       AND (CAST($3 AS BIGINT) IS NULL OR l.id < $3) \
                     ORDER BY l.id DESC LIMIT $4",
                )
                .bind(filter.actor_id)
                .bind(filter.action.map(AuditAction::as_str))
                .bind(filter.before_id)
                .bind(filter.limit)
                .fetch_all(&self.pool)
                .await?;
                let mut entries = Vec::with_capacity(rows.len());
                for row in &rows {
                    let Some(action) = AuditAction::parse(row.try_get("action")?) else {
                        continue;
                    };
                    let user_ref = |id: &str, name: &str| -> sqlx::Result<Option<UserRef>> {
                        let id: Option<i64> = row.try_get(id)?;
                        let name: Option<String> = row.try_get(name)?;
                        Ok(id.zip(name).map(|(id, username)| UserRef { id, username }))
                    };
                    entries.push(AuditRecord {
                        id: row.try_get("id")?,
                        at: from_millis(row.try_get("at")?),
                        actor: user_ref("actor_id", "actor_username")?,
                        action,
                        user: user_ref("subject_id", "subject_username")?,
                        token_id: row.try_get("token_id")?,
                        token_name: row.try_get("token_name")?,
                        detail: row.try_get("detail")?,
                        client_ip: row.try_get("client_ip")?,
                        user_agent: row.try_get("user_agent")?,
                    });
                }
                Ok(entries)
            }

            async fn policy(&self) -> StoreResult<Policy> {
                let row = sqlx::query(
                    "SELECT max_lifetime_days, max_active_tokens, revoke_unused_after_days, \
                       token_creators FROM policy WHERE id = 1",
                )
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else {
                    return Ok(Policy::default());
                };
                let creators: String = row.try_get("token_creators")?;
                let defaults = Policy::default();
                // A row edited by hand beyond §3's bounds falls back to them.
                Ok(Policy::new(
                    i64::from(row.try_get::<i32, _>("max_lifetime_days")?),
                    i64::from(row.try_get::<i32, _>("max_active_tokens")?),
                    row.try_get::<Option<i32>, _>("revoke_unused_after_days")?.map(i64::from),
                    TokenCreators::parse(&creators).unwrap_or(defaults.token_creators),
                )
                .unwrap_or(defaults))
            }

            async fn set_policy(
                &self,
                policy: &Policy,
                now: DateTime<Utc>,
                origin: &Origin,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "UPDATE policy SET max_lifetime_days = $1, max_active_tokens = $2, \
                       revoke_unused_after_days = $3, token_creators = $4 WHERE id = 1",
                )
                .bind(policy.max_lifetime_days as i32)
                .bind(policy.max_active_tokens as i32)
                .bind(policy.revoke_unused_after_days.map(|days| days as i32))
                .bind(policy.token_creators.as_str())
                .execute(&mut *tx)
                .await?;
                let summary = policy.summary();
                let audit = NewAudit {
                    detail: Some(&summary),
                    ..NewAudit::new(AuditAction::PolicyChanged, now, origin)
                };
                insert_audit(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn revoke_unused_pats(
                &self,
                unused_since: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                let rows = sqlx::query(
                    "UPDATE personal_access_tokens \
                     SET revoked_at = $1, revoked_by = NULL, revoked_reason = $2 \
                     WHERE revoked_at IS NULL AND expires_at > $1 \
                       AND CASE WHEN last_used_at > COALESCE(issued_at, created_at) \
                           THEN last_used_at ELSE COALESCE(issued_at, created_at) END <= $3 \
                     RETURNING id, user_id, name",
                )
                .bind(to_millis(now))
                .bind(RevokedReason::Unused.as_str())
                .bind(to_millis(unused_since))
                .fetch_all(&mut *tx)
                .await?;
                let revocation = NewRevocation {
                    at: now,
                    by: None,
                    reason: RevokedReason::Unused,
                };
                let origin = Origin::patio("Patio token policy");
                for row in &rows {
                    log_revocation(&mut *tx, row, revocation, &origin).await?;
                }
                tx.commit().await?;
                Ok(rows.len() as u64)
            }

            async fn create_client(
                &self,
                name: &str,
                client_id: &str,
                secret_digest: &str,
                now: DateTime<Utc>,
                origin: &Origin,
            ) -> StoreResult<ClientRecord> {
                let mut tx = self.pool.begin().await?;
                let row = sqlx::query(
                    "INSERT INTO introspection_clients (name, client_id, secret_digest, created_at) \
                     VALUES ($1, $2, $3, $4) \
                     RETURNING id, name, client_id, secret_digest, created_at",
                )
                .bind(name)
                .bind(client_id)
                .bind(secret_digest)
                .bind(to_millis(now))
                .fetch_one(&mut *tx)
                .await?;
                let audit = NewAudit {
                    detail: Some(name),
                    ..NewAudit::new(AuditAction::ClientRegistered, now, origin)
                };
                insert_audit(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(client_from_row(&row)?)
            }

            async fn list_clients(&self) -> StoreResult<Vec<ClientRecord>> {
                let rows = sqlx::query(
                    "SELECT id, name, client_id, secret_digest, created_at \
                     FROM introspection_clients ORDER BY id",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.iter().map(client_from_row).collect::<sqlx::Result<_>>()?)
            }

            async fn delete_client(
                &self,
                id: i64,
                now: DateTime<Utc>,
                origin: &Origin,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let removed =
                    sqlx::query("DELETE FROM introspection_clients WHERE id = $1 RETURNING name")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let Some(row) = removed else {
                    tx.rollback().await?;
                    return Ok(false);
                };
                let name: String = row.try_get("name")?;
                let audit = NewAudit {
                    detail: Some(&name),
                    ..NewAudit::new(AuditAction::ClientRemoved, now, origin)
                };
                insert_audit(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn client(&self, client_id: &str) -> StoreResult<Option<ClientRecord>> {
                let row = sqlx::query(
                    "SELECT id, name, client_id, secret_digest, created_at \
                     FROM introspection_clients WHERE client_id = $1",
                )
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.as_ref().map(client_from_row).transpose()?)
            }
        }

        type DbConnection = <<$row as sqlx::Row>::Database as sqlx::Database>::Connection;

        /// Failures within `limits`' window, per username and per client address.
        async fn login_failures(
            conn: &mut DbConnection,
            username_key: &str,
            client: &str,
            limits: LoginLimits,
        ) -> StoreResult<LoginFailures> {
            let row = sqlx::query(
                "SELECT \
                   (SELECT COUNT(*) FROM login_failures WHERE username_key = $1 AND at > $3) AS by_username, \
                   (SELECT MIN(at) FROM login_failures WHERE username_key = $1 AND at > $3) AS oldest_by_username, \
                   (SELECT COUNT(*) FROM login_failures WHERE client = $2 AND at > $3) AS by_client, \
                   (SELECT MIN(at) FROM login_failures WHERE client = $2 AND at > $3) AS oldest_by_client",
            )
            .bind(username_key)
            .bind(client)
            .bind(to_millis(limits.since))
            .fetch_one(&mut *conn)
            .await?;
            Ok(LoginFailures {
                by_username: row.try_get("by_username")?,
                oldest_by_username: row
                    .try_get::<Option<i64>, _>("oldest_by_username")?
                    .map(from_millis),
                by_client: row.try_get("by_client")?,
                oldest_by_client: row
                    .try_get::<Option<i64>, _>("oldest_by_client")?
                    .map(from_millis),
            })
        }

        /// One of a user's tokens.
        async fn pat_of_user(
            conn: &mut DbConnection,
            user_id: i64,
            id: i64,
        ) -> StoreResult<Option<PatRecord>> {
            let sql =
                format!("SELECT {PAT_COLUMNS} FROM {PAT_TABLES} WHERE p.id = $1 AND p.user_id = $2");
            let row = sqlx::query(&sql).bind(id).bind(user_id).fetch_optional(&mut *conn).await?;
            Ok(row.as_ref().map(pat_from_row).transpose()?)
        }

        /// Revokes a user's tokens that are neither revoked nor expired.
        async fn revoke_user_pats(
            conn: &mut DbConnection,
            user_id: i64,
            revocation: NewRevocation,
            origin: &Origin,
        ) -> StoreResult<u64> {
            let rows = sqlx::query(
                "UPDATE personal_access_tokens \
                 SET revoked_at = $1, revoked_by = $2, revoked_reason = $3 \
                 WHERE user_id = $4 AND revoked_at IS NULL AND expires_at > $1 \
                 RETURNING id, user_id, name",
            )
            .bind(to_millis(revocation.at))
            .bind(revocation.by)
            .bind(revocation.reason.as_str())
            .bind(user_id)
            .fetch_all(&mut *conn)
            .await?;
            for row in &rows {
                log_revocation(&mut *conn, row, revocation, origin).await?;
            }
            Ok(rows.len() as u64)
        }

        /// Logs a token's revocation from its `RETURNING id, user_id, name` row.
        async fn log_revocation(
            conn: &mut DbConnection,
            row: &$row,
            revocation: NewRevocation,
            origin: &Origin,
        ) -> StoreResult<()> {
            let name: String = row.try_get("name")?;
            let mut event = token_event(
                row.try_get("user_id")?,
                EventKind::TokenRevoked,
                revocation.at,
                origin,
                (row.try_get("id")?, &name),
            );
            event.detail = Some(revocation.reason.as_str());
            insert_event(conn, event).await
        }

        fn account_event(user_id: i64, kind: EventKind, at: DateTime<Utc>, origin: &Origin) -> NewEvent<'_> {
            NewEvent { user_id, kind, at, origin, token: None, detail: None }
        }

        fn token_event<'a>(
            user_id: i64,
            kind: EventKind,
            at: DateTime<Utc>,
            origin: &'a Origin,
            token: (i64, &'a str),
        ) -> NewEvent<'a> {
            NewEvent { user_id, kind, at, origin, token: Some(token), detail: None }
        }

        /// Writes an event, inside the transaction of the change it records, with the audit entry
        /// and the notifications it calls for.
        async fn insert_event(conn: &mut DbConnection, event: NewEvent<'_>) -> StoreResult<()> {
            let row = sqlx::query(
                "INSERT INTO security_events \
                   (user_id, kind, at, client_ip, user_agent, token_id, token_name, actor_id, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(event.user_id)
            .bind(event.kind.as_str())
            .bind(to_millis(event.at))
            .bind(event.origin.client.map(|ip| ip.to_string()))
            .bind(event.origin.user_agent.as_deref())
            .bind(event.token.map(|(id, _)| id))
            .bind(event.token.map(|(_, name)| name))
            .bind(event.origin.actor)
            .bind(event.detail)
            .fetch_one(&mut *conn)
            .await?;
            let id: i64 = row.try_get("id")?;
            if let Some(kind) = notice_of(&event) {
                let payload = serde_json::json!({
                    "token": event.token.map(|(id, name)| serde_json::json!({ "id": id, "name": name })),
                    "client_ip": event.origin.client.map(|ip| ip.to_string()),
                    "detail": event.detail,
                    "at": crate::time::rfc3339_string(event.at),
                })
                .to_string();
                let key = format!("event:{id}");
                let notice = NewNotice { user_id: event.user_id, kind: kind.as_str(), key: &key, payload: &payload, at: event.at };
                enqueue(&mut *conn, notice).await?;
            }
            // Done to an account by anyone but its owner: an administrative action.
            if let Some(action) = AuditAction::of_event(event.kind) {
                if event.origin.actor != Some(event.user_id) {
                    let audit = NewAudit {
                        user_id: Some(event.user_id),
                        token: event.token,
                        detail: event.detail,
                        ..NewAudit::new(action, event.at, event.origin)
                    };
                    insert_audit(conn, audit).await?;
                }
            }
            Ok(())
        }

        /// The notification an event calls for (SPEC §11): expiry, a new address, a revocation by
        /// someone else, a password change.
        fn notice_of(event: &NewEvent<'_>) -> Option<crate::notify::rules::NoticeKind> {
            use crate::notify::rules::NoticeKind;
            match event.kind {
                EventKind::TokenExpired => Some(NoticeKind::Expired),
                EventKind::TokenUsedFromNewAddress => Some(NoticeKind::UsedFromNewAddress),
                EventKind::TokenRevoked if event.origin.actor != Some(event.user_id) => {
                    Some(NoticeKind::Revoked)
                }
                EventKind::PasswordChanged => Some(NoticeKind::PasswordChanged),
                _ => None,
            }
        }

        /// Queues a notice to the user's verified address and webhook, once per key and channel.
        async fn enqueue(conn: &mut DbConnection, notice: NewNotice<'_>) -> StoreResult<u64> {
            let mail = sqlx::query(
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
            let hook = sqlx::query(
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

        /// An entry about to be appended to the audit log.
        struct NewAudit<'a> {
            action: AuditAction,
            at: DateTime<Utc>,
            origin: &'a Origin,
            user_id: Option<i64>,
            token: Option<(i64, &'a str)>,
            detail: Option<&'a str>,
        }

        impl<'a> NewAudit<'a> {
            fn new(action: AuditAction, at: DateTime<Utc>, origin: &'a Origin) -> NewAudit<'a> {
                NewAudit { action, at, origin, user_id: None, token: None, detail: None }
            }
        }

        /// Appends to the audit log, inside the transaction of the action it records. There is
        /// no other statement on `audit_log` but reading: it is append-only (and the database
        /// refuses changes to it).
        async fn insert_audit(conn: &mut DbConnection, entry: NewAudit<'_>) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO audit_log \
                   (at, actor_id, action, user_id, token_id, token_name, detail, client_ip, user_agent) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(to_millis(entry.at))
            .bind(entry.origin.actor)
            .bind(entry.action.as_str())
            .bind(entry.user_id)
            .bind(entry.token.map(|(id, _)| id))
            .bind(entry.token.map(|(_, name)| name))
            .bind(entry.detail)
            .bind(entry.origin.client.map(|ip| ip.to_string()))
            .bind(entry.origin.user_agent.as_deref())
            .execute(&mut *conn)
            .await?;
            Ok(())
        }

        /// Ends a user's sessions and access tokens.
        async fn delete_sign_ins(conn: &mut DbConnection, user_id: i64) -> StoreResult<()> {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *conn)
                .await?;
            sqlx::query("DELETE FROM access_tokens WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        async fn insert_user(
            conn: &mut DbConnection,
            user: NewUser<'_>,
            now: DateTime<Utc>,
        ) -> StoreResult<UserRecord> {
            let row = sqlx::query(
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
    };
}
