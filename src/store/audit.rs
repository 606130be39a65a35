use super::Store;
use crate::db::{query, StoreResult, Tx};
use crate::domain::accounts::UserRef;
use crate::domain::audit::AuditAction;
use crate::domain::events::Origin;
use crate::time::{from_millis, to_millis};
use crate::tokens::policy::{Policy, TokenCreators};
use chrono::{DateTime, Utc};

/// An entry of the audit log (SPEC §14).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The administrator who acted; `None` for the command line, the intake or a policy.
    pub actor: Option<UserRef>,
    pub action: AuditAction,
    /// The account acted on, if any.
    pub user: Option<UserRef>,
    pub token_id: Option<i64>,
    pub token_name: Option<String>,
    pub detail: Option<String>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Which audit entries to list; `None` leaves a filter out.
#[derive(Clone, Copy, Debug, Default)]
pub struct AuditFilter {
    pub actor_id: Option<i64>,
    pub action: Option<AuditAction>,
    pub before_id: Option<i64>,
    pub limit: i64,
}

impl Store {
    /// The audit log, newest first, filtered.
    pub async fn audit(&self, filter: AuditFilter) -> StoreResult<Vec<AuditRecord>> {
        let rows = query(
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

    pub async fn policy(&self) -> StoreResult<Policy> {
        let row = query(
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
            i64::from(row.try_get::<i32>("max_lifetime_days")?),
            i64::from(row.try_get::<i32>("max_active_tokens")?),
            row.try_get::<Option<i32>>("revoke_unused_after_days")?
                .map(i64::from),
            TokenCreators::parse(&creators).unwrap_or(defaults.token_creators),
        )
        .unwrap_or(defaults))
    }

    /// Replaces the policy, recording it in the audit log.
    pub async fn set_policy(
        &self,
        policy: &Policy,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        query(
            "UPDATE policy SET max_lifetime_days = $1, max_active_tokens = $2, \
               revoke_unused_after_days = $3, token_creators = $4 WHERE id = 1",
        )
        .bind(policy.max_lifetime_days as i32)
        .bind(policy.max_active_tokens as i32)
        .bind(policy.revoke_unused_after_days.map(|days| days as i32))
        .bind(policy.token_creators.as_str())
        .execute(&mut tx)
        .await?;
        let summary = policy.summary();
        let audit = NewAudit {
            detail: Some(&summary),
            ..NewAudit::new(AuditAction::PolicyChanged, now, origin)
        };
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// An entry about to be appended to the audit log.
pub(super) struct NewAudit<'a> {
    pub action: AuditAction,
    pub at: DateTime<Utc>,
    pub origin: &'a Origin,
    pub user_id: Option<i64>,
    pub token: Option<(i64, &'a str)>,
    pub detail: Option<&'a str>,
}

impl<'a> NewAudit<'a> {
    pub fn new(action: AuditAction, at: DateTime<Utc>, origin: &'a Origin) -> NewAudit<'a> {
        NewAudit {
            action,
            at,
            origin,
            user_id: None,
            token: None,
            detail: None,
        }
    }
}

/// Appends to the audit log, inside the transaction of the action it records. There is
/// no other statement on `audit_log` but reading: it is append-only (and the database
/// refuses changes to it).
pub(super) async fn insert_audit(conn: &mut Tx, entry: NewAudit<'_>) -> StoreResult<()> {
    query(
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
