//! `/api/v1/admin/users`: accounts, for administrators (SPEC §5, §17).

use crate::accounts::service::{AccessRequest, AccountForm};
use crate::api::extract::{Admin, IdPath, JsonBody};
use crate::domain::accounts::{Role, User};
use crate::domain::events::Origin;
use crate::web::api_error::ErrorBody;
use crate::web::state::AppState;
use crate::web::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(update_user))
        .routes(routes!(revoke_user_tokens))
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    users: Vec<User>,
}

#[derive(Serialize, ToSchema)]
pub struct OneUser {
    user: User,
}

/// Every account (administrators only).
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin",
    responses((status = 200, body = UserList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<UserList>, ApiError> {
    let users = state.store.list_users().await?;
    Ok(Json(UserList {
        users: users.into_iter().map(User::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserBody {
    /// 3–64 of `[A-Za-z0-9._-]`, unique without regard to case.
    #[schema(min_length = 3, max_length = 64, pattern = r"^[A-Za-z0-9._-]+$")]
    username: String,
    /// Up to 100 characters, no control characters; the username when left out or blank.
    #[serde(default)]
    #[schema(max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    display_name: Option<String>,
    /// 8–256 characters.
    #[schema(min_length = 8, max_length = 256)]
    password: String,
    #[serde(default)]
    role: Option<Role>,
    /// Optional: the user's e-mail address, sent a verification link (needs mail to be on).
    #[serde(default)]
    #[schema(format = Email, max_length = 254)]
    email: Option<String>,
}

/// Creates an account (administrators only).
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", request_body = CreateUserBody,
    responses((status = 201, body = OneUser), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "`username_taken`", body = ErrorBody),
        (status = 422, description = "`invalid_email`, or `mail_off`: an address given while mail is off", body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    _: Admin,
    origin: Origin,
    JsonBody(request): JsonBody<CreateUserBody>,
) -> Result<Response, ApiError> {
    let form = AccountForm {
        username: &request.username,
        display_name: request.display_name.as_deref().unwrap_or(""),
        password: &request.password,
        role: request.role.unwrap_or(Role::User),
    };
    let email = state
        .notifications()
        .email_for_new_user(request.email.as_deref().unwrap_or(""))?;
    let user = state.accounts().create_user(form, &origin).await?;
    if let Some(email) = email {
        state.notifications().set_email(user.id, &email).await?;
    }
    Ok((StatusCode::CREATED, Json(OneUser { user: user.into() })).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    active: Option<bool>,
    role: Option<Role>,
    /// With `"active": false`: also revoke the user's personal access tokens (default true).
    /// Deactivation always ends their sessions and access tokens.
    revoke_tokens: Option<bool>,
}

/// Activates, deactivates or changes the role of an account (administrators only). The last
/// active administrator cannot be deactivated or demoted. Deactivation ends the user's sessions
/// and access tokens and, unless `revoke_tokens` is false, revokes their personal access tokens.
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "admin", request_body = UserChange,
    params(("id" = i64, Path, description = "The user's id")),
    responses((status = 200, body = OneUser), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`last_admin`", body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    IdPath(id): IdPath,
    origin: Origin,
    JsonBody(change): JsonBody<UserChange>,
) -> Result<Json<OneUser>, ApiError> {
    let request = AccessRequest {
        active: change.active,
        role: change.role,
        revoke_tokens: change.revoke_tokens,
    };
    let user = state
        .accounts()
        .change_access(admin.user.id, id, request, &origin)
        .await?;
    Ok(Json(OneUser { user: user.into() }))
}

#[derive(Serialize, ToSchema)]
pub struct Revoked {
    /// How many personal access tokens were revoked.
    revoked: u64,
}

/// Ends every credential of a user at once (administrators only): their sessions and access
/// tokens end and their active personal access tokens are revoked (reason `admin`).
#[utoipa::path(delete, path = "/api/v1/admin/users/{id}/tokens", tag = "admin",
    params(("id" = i64, Path, description = "The user's id")),
    responses((status = 200, body = Revoked), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_user_tokens(
    State(state): State<AppState>,
    Admin(admin): Admin,
    IdPath(id): IdPath,
    origin: Origin,
) -> Result<Json<Revoked>, ApiError> {
    let revoked = state
        .accounts()
        .revoke_credentials(admin.user.id, id, &origin)
        .await?;
    Ok(Json(Revoked { revoked }))
}
