use super::Store;
use crate::db::{query, StoreResult, Tx};
use crate::domain::accounts::UserRef;
use crate::domain::audit::AuditAction;
use crate::domain::events::{EventKind, Origin};
use crate::store::audit::{insert_audit, NewAudit};
use crate::store::outbox::{enqueue, NewNotice};
use crate::time::{from_millis, to_millis};
use chrono::{DateTime, Utc};

/// An event about to be written to a user's security log (SPEC §10).
#[derive(Clone, Copy, Debug)]
pub struct NewEvent<'a> {
    /// Whose log it goes to.
    pub user_id: i64,
    pub kind: EventKind,
    pub at: DateTime<Utc>,
    pub origin: &'a Origin,
    /// The token it is about: id and name.
    pub token: Option<(i64, &'a str)>,
    /// What the kind alone does not say: a revocation's reason, a new role, a refusal's cause.
    pub detail: Option<&'a str>,
}

/// An event in a user's security log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRecord {
    pub id: i64,
    pub kind: EventKind,
    pub at: DateTime<Utc>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub token_id: Option<i64>,
    pub token_name: Option<String>,
    /// Who acted, when not the log's owner (and the account still exists).
    pub actor: Option<UserRef>,
    pub detail: Option<String>,
}

impl Store {
    /// Writes one event on its own (for what is not a change: a refused sign-in or token).
    pub async fn record_event(&self, event: NewEvent<'_>) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        insert_event(&mut tx, event).await?;
        Ok(tx.commit().await?)
    }

    /// A user's events, newest first: at most `limit`, with ids below `before_id` if given.
    pub async fn events(
        &self,
        user_id: i64,
        before_id: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<EventRecord>> {
        let rows = query(
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
                actor: actor_id
                    .zip(actor_name)
                    .map(|(id, username)| UserRef { id, username }),
                detail: row.try_get("detail")?,
            });
        }
        Ok(events)
    }

    /// Logs "expired" once for each token whose expiry has passed by `now` (with several
    /// instances too: each token is claimed by one); how many.
    pub async fn log_expired_pats(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await?;
        let rows = query(
            "UPDATE personal_access_tokens SET expiry_logged = TRUE \
             WHERE NOT expiry_logged AND revoked_at IS NULL AND expires_at <= $1 \
             RETURNING id, user_id, name, expires_at",
        )
        .bind(to_millis(now))
        .fetch_all(&mut tx)
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
            insert_event(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }
}

pub(super) fn account_event(
    user_id: i64,
    kind: EventKind,
    at: DateTime<Utc>,
    origin: &Origin,
) -> NewEvent<'_> {
    NewEvent {
        user_id,
        kind,
        at,
        origin,
        token: None,
        detail: None,
    }
}

pub(super) fn token_event<'a>(
    user_id: i64,
    kind: EventKind,
    at: DateTime<Utc>,
    origin: &'a Origin,
    token: (i64, &'a str),
) -> NewEvent<'a> {
    NewEvent {
        user_id,
        kind,
        at,
        origin,
        token: Some(token),
        detail: None,
    }
}

/// Writes an event, inside the transaction of the change it records, with the audit entry
/// and the notifications it calls for.
pub(super) async fn insert_event(conn: &mut Tx, event: NewEvent<'_>) -> StoreResult<()> {
    let row = query(
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
        let notice = NewNotice {
            user_id: event.user_id,
            kind: kind.as_str(),
            key: &key,
            payload: &payload,
            at: event.at,
        };
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
fn notice_of(event: &NewEvent<'_>) -> Option<crate::domain::notices::NoticeKind> {
    use crate::domain::notices::NoticeKind;
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
