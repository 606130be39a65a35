//! `GET`/`PUT /api/v1/admin/policy` and `GET /api/v1/admin/audit` (SPEC §14), for
//! administrators.

use crate::admin::policy::{self, MAX_AUDIT_PAGE};
use crate::api::extract::{Admin, JsonBody};
use crate::api::schema::UserRef;
use crate::domain::audit::AuditAction;
use crate::domain::events::Origin;
use crate::store::{AuditFilter, AuditRecord};
use crate::tokens::policy::{Policy, TokenCreators};
use crate::web::api_error::ErrorBody;
use crate::web::state::AppState;
use crate::web::ApiError;
use axum::extract::{Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_policy, put_policy))
        .routes(routes!(list_audit))
}

/// The instance's token policy. It only tightens SPEC §3.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    /// The longest lifetime a new or regenerated token may have.
    #[schema(minimum = 1, maximum = 365, example = 90)]
    max_lifetime_days: i64,
    /// How many tokens one user may have active at once.
    #[schema(minimum = 1, maximum = 5, example = 5)]
    max_active_tokens: i64,
    /// Tokens unused for this many days are revoked (reason `unused`); null: never.
    #[schema(minimum = 1, maximum = 3650, example = 90)]
    revoke_unused_after_days: Option<i64>,
    /// `everyone`, or `admins`: only administrators may create tokens.
    token_creators: TokenCreators,
}

impl From<Policy> for PolicyBody {
    fn from(policy: Policy) -> PolicyBody {
        PolicyBody {
            max_lifetime_days: policy.max_lifetime_days,
            max_active_tokens: policy.max_active_tokens as i64,
            revoke_unused_after_days: policy.revoke_unused_after_days,
            token_creators: policy.token_creators,
        }
    }
}

/// The token policy now in force.
#[utoipa::path(get, path = "/api/v1/admin/policy", tag = "admin",
    responses((status = 200, body = PolicyBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn get_policy(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<PolicyBody>, ApiError> {
    Ok(Json(state.store.policy().await?.into()))
}

/// Replaces the token policy (recorded in the audit log). New tokens, regenerations and the
/// hourly sweep follow it at once; existing tokens keep their expiry.
#[utoipa::path(put, path = "/api/v1/admin/policy", tag = "admin", request_body = PolicyBody,
    responses((status = 200, body = PolicyBody), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "`invalid_request`: a bound beyond SPEC §3", body = ErrorBody)))]
pub async fn put_policy(
    State(state): State<AppState>,
    _: Admin,
    origin: Origin,
    JsonBody(body): JsonBody<PolicyBody>,
) -> Result<Json<PolicyBody>, ApiError> {
    let policy = Policy::new(
        body.max_lifetime_days,
        body.max_active_tokens,
        body.revoke_unused_after_days,
        body.token_creators,
    )?;
    Ok(Json(
        policy::set(&state.store, state.clock.now(), policy, &origin)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only what this administrator did (a user id).
    actor: Option<i64>,
    /// Only this action.
    #[param(inline, value_type = Option<AuditAction>)]
    action: Option<String>,
    /// The `next` of the previous page.
    before: Option<i64>,
    /// 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    id: i64,
    #[serde(serialize_with = "crate::time::rfc3339")]
    at: DateTime<Utc>,
    action: AuditAction,
    /// The administrator who acted; null for the command line, the leaked-token intake or the
    /// policy's sweep (`via` says which).
    actor: Option<UserRef>,
    /// What acted, by its user agent (shortened) or name, e.g. `patio admin reset-password`.
    via: Option<String>,
    /// The account acted on.
    user: Option<UserRef>,
    token: Option<AuditToken>,
    /// A revocation's reason, a new role, a client's name, the new policy in words.
    detail: Option<String>,
    client_ip: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditToken {
    id: i64,
    name: String,
}

impl From<AuditRecord> for AuditEntry {
    fn from(entry: AuditRecord) -> AuditEntry {
        AuditEntry {
            id: entry.id,
            at: entry.at,
            action: entry.action,
            actor: entry.actor.map(UserRef::from),
            via: entry.user_agent,
            user: entry.user.map(UserRef::from),
            token: entry.token_id.map(|id| AuditToken {
                id,
                name: entry.token_name.unwrap_or_default(),
            }),
            detail: entry.detail,
            client_ip: entry.client_ip,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditLog {
    entries: Vec<AuditEntry>,
    /// The `before` of the next page, or null on the last.
    next: Option<i64>,
}

/// Every administrative action, newest first, filtered and paged (administrators only).
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = AuditLog), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_audit(
    State(state): State<AppState>,
    _: Admin,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditLog>, ApiError> {
    let Query(query) =
        query.map_err(|rejection| ApiError::InvalidRequest(rejection.body_text()))?;
    let action = match query.action.as_deref() {
        None => None,
        Some(text) => Some(
            AuditAction::parse(text).ok_or_else(|| ApiError::Unprocessable {
                code: "invalid_request",
                message: format!("`action` is one of the audit actions, not ‘{text}’."),
            })?,
        ),
    };
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
        return Err(ApiError::Unprocessable {
            code: "invalid_request",
            message: format!("`limit` is from 1 to {MAX_AUDIT_PAGE}."),
        });
    }
    let filter = AuditFilter {
        actor_id: query.actor,
        action,
        before_id: query.before,
        limit,
    };
    let page = policy::audit(&state.store, filter).await?;
    Ok(Json(AuditLog {
        entries: page.entries.into_iter().map(AuditEntry::from).collect(),
        next: page.next,
    }))
}
