use super::Store;
use crate::db::{query, Row, StoreResult};
use crate::domain::audit::AuditAction;
use crate::domain::events::Origin;
use crate::store::audit::{insert_audit, NewAudit};
use crate::time::{from_millis, to_millis};
use chrono::{DateTime, Utc};

/// A resource server allowed to introspect tokens (SPEC §12).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRecord {
    pub id: i64,
    pub name: String,
    pub client_id: String,
    pub secret_digest: String,
    pub created_at: DateTime<Utc>,
}

impl Store {
    pub async fn create_client(
        &self,
        name: &str,
        client_id: &str,
        secret_digest: &str,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<ClientRecord> {
        let mut tx = self.pool.begin().await?;
        let row = query(
            "INSERT INTO introspection_clients (name, client_id, secret_digest, created_at) \
             VALUES ($1, $2, $3, $4) \
             RETURNING id, name, client_id, secret_digest, created_at",
        )
        .bind(name)
        .bind(client_id)
        .bind(secret_digest)
        .bind(to_millis(now))
        .fetch_one(&mut tx)
        .await?;
        let audit = NewAudit {
            detail: Some(name),
            ..NewAudit::new(AuditAction::ClientRegistered, now, origin)
        };
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(client_from_row(&row)?)
    }

    /// Every introspection client, oldest first.
    pub async fn list_clients(&self) -> StoreResult<Vec<ClientRecord>> {
        let rows = query(
            "SELECT id, name, client_id, secret_digest, created_at \
             FROM introspection_clients ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(client_from_row)
            .collect::<sqlx::Result<_>>()?)
    }

    /// Whether a client was deleted.
    pub async fn delete_client(
        &self,
        id: i64,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let removed = query("DELETE FROM introspection_clients WHERE id = $1 RETURNING name")
            .bind(id)
            .fetch_optional(&mut tx)
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
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn client(&self, client_id: &str) -> StoreResult<Option<ClientRecord>> {
        let row = query(
            "SELECT id, name, client_id, secret_digest, created_at \
             FROM introspection_clients WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(client_from_row).transpose()?)
    }
}

fn client_from_row(row: &Row) -> sqlx::Result<ClientRecord> {
    Ok(ClientRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        client_id: row.try_get("client_id")?,
        secret_digest: row.try_get("secret_digest")?,
        created_at: from_millis(row.try_get("created_at")?),
    })
}
