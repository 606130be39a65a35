//! `/api/v1/admin/tokens`: every user's tokens, for administrators (SPEC §14, §17): the
//! inventory, and revoking any one of them.

use crate::admin::inventory::{self, InventoryRequest};
use crate::api::extract::{Admin, IdPath};
use crate::api::schema::{ApiTokenStatus, UserRef};
use crate::domain::events::Origin;
use crate::store::{InventoryEntry, InventorySort, InventoryStatus};
use crate::tokens::policy::Policy;
use crate::tokens::rules::{Access, RevokedReason};
use crate::web::api_error::ErrorBody;
use crate::web::state::AppState;
use crate::web::ApiError;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_all_tokens))
        .routes(routes!(revoke_token))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InventoryQuery {
    /// Only this user's tokens.
    user_id: Option<i64>,
    /// `active`, `expired` or `revoked`.
    #[param(pattern = "^(active|expired|revoked)$")]
    status: Option<String>,
    /// Only active tokens that expire within this many days.
    #[param(minimum = 0, maximum = 3650)]
    expires_within_days: Option<i64>,
    /// Only tokens not used (nor created) for this many days.
    #[param(minimum = 0, maximum = 36500)]
    unused_for_days: Option<i64>,
    /// `newest` (the default), `expires` (soonest first) or `last_used` (least recently used
    /// first, never-used ones first of all).
    #[param(pattern = "^(newest|expires|last_used)$")]
    sort: Option<String>,
    /// The `next` of the previous page (in the same order).
    before: Option<i64>,
    /// 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

/// A token as the inventory lists it: SPEC §14's columns.
#[derive(Serialize, ToSchema)]
pub struct InventoryToken {
    id: i64,
    name: String,
    owner: UserRef,
    #[schema(example = "active")]
    status: ApiTokenStatus,
    #[schema(value_type = String, example = "read_write")]
    access: Access,
    #[serde(serialize_with = "crate::time::rfc3339")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    expires_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339_option")]
    last_used_at: Option<DateTime<Utc>>,
    /// The address it was last used from, if it was.
    last_ip: Option<String>,
    #[serde(serialize_with = "crate::time::rfc3339_option")]
    revoked_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, example = "admin")]
    revoked_reason: Option<RevokedReason>,
    /// A live token that lives longer than the current policy allows (made under a looser one).
    exceeds_policy: bool,
}

impl InventoryToken {
    fn of(entry: InventoryEntry, now: DateTime<Utc>, policy: &Policy) -> InventoryToken {
        let token = entry.token;
        InventoryToken {
            exceeds_policy: inventory::exceeds_policy(&token, policy, now),
            status: ApiTokenStatus::of(&token, now),
            id: token.id,
            name: token.name,
            owner: UserRef::from(entry.owner),
            access: token.access,
            created_at: token.created_at,
            expires_at: token.expires_at,
            last_used_at: token.last_used_at,
            last_ip: entry.last_ip,
            revoked_at: token.revoked.as_ref().map(|r| r.at),
            revoked_reason: token.revoked.as_ref().map(|r| r.reason),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Inventory {
    tokens: Vec<InventoryToken>,
    /// Pass as `before` for the next page; null on the last.
    next: Option<i64>,
}

/// Every user's tokens, newest first, filtered and paged (administrators only).
#[utoipa::path(get, path = "/api/v1/admin/tokens", tag = "admin", params(InventoryQuery),
    responses((status = 200, body = Inventory), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_all_tokens(
    State(state): State<AppState>,
    _: Admin,
    query: Result<Query<InventoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Inventory>, ApiError> {
    let Query(query) =
        query.map_err(|rejection| ApiError::InvalidRequest(rejection.body_text()))?;
    let out_of_range = |what: &str| ApiError::Unprocessable {
        code: "invalid_request",
        message: format!("`{what}` is out of range."),
    };
    let status = match query.status.as_deref() {
        None => None,
        Some("active") => Some(InventoryStatus::Active),
        Some("expired") => Some(InventoryStatus::Expired),
        Some("revoked") => Some(InventoryStatus::Revoked),
        Some(_) => {
            return Err(ApiError::Unprocessable {
                code: "invalid_request",
                message: "`status` is one of active, expired and revoked.".into(),
            })
        }
    };
    if query.limit.is_some_and(|limit| !(1..=100).contains(&limit)) {
        return Err(out_of_range("limit"));
    }
    if query
        .expires_within_days
        .is_some_and(|days| !(0..=3650).contains(&days))
    {
        return Err(out_of_range("expires_within_days"));
    }
    if query
        .unused_for_days
        .is_some_and(|days| !(0..=36500).contains(&days))
    {
        return Err(out_of_range("unused_for_days"));
    }
    let sort = match query.sort.as_deref() {
        None => InventorySort::Newest,
        Some(text) => InventorySort::parse(text).ok_or_else(|| ApiError::Unprocessable {
            code: "invalid_request",
            message: "`sort` is one of newest, expires and last_used.".into(),
        })?,
    };
    let request = InventoryRequest {
        sort,
        user_id: query.user_id,
        status,
        expires_within_days: query.expires_within_days,
        unused_for_days: query.unused_for_days,
        before: query.before,
        limit: query.limit,
    };
    let page = inventory::list(&state.store, state.clock.now(), &request).await?;
    let now = state.clock.now();
    Ok(Json(Inventory {
        tokens: page
            .entries
            .into_iter()
            .map(|entry| InventoryToken::of(entry, now, &page.policy))
            .collect(),
        next: page.next,
    }))
}

/// Revokes any user's token (administrators only): it stops working at once and stays listed
/// for its owner as revoked, with who revoked it and when.
#[utoipa::path(delete, path = "/api/v1/admin/tokens/{id}", tag = "admin",
    params(("id" = i64, Path, description = "The token's id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "No such token, or already revoked", body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Admin(admin): Admin,
    IdPath(id): IdPath,
    origin: Origin,
) -> Result<StatusCode, ApiError> {
    state.tokens().revoke(admin.user.id, id, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}
