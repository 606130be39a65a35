//! The route handlers: thin translations between JSON and the domain services.

use super::extract::{Admin, Authenticated, IdPath, JsonBody};
use super::ApiError;
use crate::accounts::principal::Credential;
use crate::accounts::rules::Role;
use crate::accounts::service::{self, AccountForm};
use crate::server::AppState;
use crate::store::{AccessChange, Outage, PatRecord, UserRecord};
use crate::tokens::rules::{ExpirationRequest, TokenError, TokenStatus};
use crate::tokens::service::{self as tokens, GenerateRequest};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code: `invalid_request`, `invalid_name`, `duplicate_name`, `invalid_expiration`,
    /// `token_limit_reached`, `unauthorized`, `forbidden`, `not_found`, `rate_limited`,
    /// `unavailable`, `username_taken`, `last_admin`.
    error: String,
    /// A sentence for people.
    message: String,
}

/// Whether the database answers.
#[utoipa::path(get, path = "/healthz", tag = "health", security(()),
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    match tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await {
        Ok(Ok(())) => Ok(Json(Health { status: "ok" })),
        Ok(Err(error)) => Err(error.into()),
        Err(_) => {
            tracing::warn!("health check timed out");
            Err(ApiError::Unavailable(Outage::Unreachable))
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    id: i64,
    username: String,
    display_name: String,
    #[schema(example = "user")]
    role: Role,
    /// How this request authenticated: `session`, `access_token` or `pat`.
    #[schema(example = "pat")]
    auth: &'static str,
    /// The personal access token used, when `auth` is `pat`.
    token: Option<MeToken>,
}

#[derive(Serialize, ToSchema)]
pub struct MeToken {
    id: i64,
    name: String,
    #[serde(serialize_with = "crate::time::rfc3339")]
    expires_at: DateTime<Utc>,
}

/// The caller, as whoever they authenticated as.
#[utoipa::path(get, path = "/api/v1/me", tag = "users",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(Authenticated(caller): Authenticated) -> Json<Me> {
    let token = match &caller.credential {
        Credential::Pat {
            id,
            name,
            expires_at,
        } => Some(MeToken {
            id: *id,
            name: name.clone(),
            expires_at: *expires_at,
        }),
        _ => None,
    };
    Json(Me {
        id: caller.user.id,
        auth: caller.credential.kind(),
        username: caller.user.username,
        display_name: caller.user.display_name,
        role: caller.user.role,
        token,
    })
}

#[derive(Serialize, ToSchema)]
pub struct Token {
    id: i64,
    name: String,
    description: String,
    /// The last four characters of the secret.
    #[schema(example = "x9Qa")]
    hint: String,
    #[serde(serialize_with = "crate::time::rfc3339")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    expires_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339_option")]
    last_used_at: Option<DateTime<Utc>>,
    #[schema(example = "active")]
    status: ApiTokenStatus,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApiTokenStatus {
    Active,
    Expired,
}

impl Token {
    fn of(token: PatRecord, now: DateTime<Utc>) -> Token {
        Token {
            status: if TokenStatus::of(token.expires_at, now).is_active() {
                ApiTokenStatus::Active
            } else {
                ApiTokenStatus::Expired
            },
            id: token.id,
            name: token.name,
            description: token.description,
            hint: token.hint,
            created_at: token.created_at,
            expires_at: token.expires_at,
            last_used_at: token.last_used_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    tokens: Vec<Token>,
}

/// The caller's own tokens, active and expired, newest first. Never a secret.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, body = TokenList), (status = 401, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<TokenList>, ApiError> {
    let now = state.clock.now();
    let tokens = tokens::list(&state, caller.user.id).await?;
    Ok(Json(TokenList {
        tokens: tokens.into_iter().map(|t| Token::of(t, now)).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// 1–100 characters (after trimming), no control characters, unique among your active
    /// tokens without regard to case.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    name: String,
    /// Up to 500 characters; line breaks and tabs are the only control characters allowed.
    #[serde(default)]
    #[schema(
        max_length = 500,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    description: Option<String>,
    /// An RFC 3339 instant after now and at most 365 days ahead. Give this or
    /// `expires_in_days`, not both.
    #[schema(format = DateTime, example = "2027-01-31T23:59:59Z")]
    expires_at: Option<String>,
    /// Days from now. Give this or `expires_at`, not both.
    // A JSON number: 30.0 is as good as 30, as JSON Schema's `integer` has it.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 365, example = 30)]
    expires_in_days: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    token: Token,
    /// The secret, shown this once. Store it now.
    #[schema(example = "patio_…")]
    secret: String,
}

fn expiration(request: &NewToken) -> Result<ExpirationRequest, ApiError> {
    match (&request.expires_at, request.expires_in_days) {
        (Some(_), Some(_)) => Err(TokenError::InvalidExpiration(
            "Give either `expires_at` or `expires_in_days`, not both.".into(),
        )
        .into()),
        (None, None) => Err(TokenError::InvalidExpiration(
            "Give `expires_at` (an RFC 3339 date-time) or `expires_in_days` (1–365).".into(),
        )
        .into()),
        (None, Some(days)) if days.fract() == 0.0 => Ok(ExpirationRequest::InDays(days as i64)),
        (None, Some(_)) => Err(TokenError::InvalidExpiration(
            "`expires_in_days` must be a whole number of days, from 1 to 365.".into(),
        )
        .into()),
        (Some(text), None) => DateTime::parse_from_rfc3339(text)
            .map(|at| ExpirationRequest::At(at.with_timezone(&Utc)))
            .map_err(|_| {
                TokenError::InvalidExpiration(
                    "`expires_at` must be an RFC 3339 date-time, such as 2027-01-31T23:59:59Z."
                        .into(),
                )
                .into()
            }),
    }
}

/// Generates a token. The response is the only time the secret is shown.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken,
    responses(
        (status = 201, body = CreatedToken),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, description = "`token_limit_reached`", body = ErrorBody),
        (status = 422, description = "`invalid_name`, `duplicate_name`, `invalid_expiration`", body = ErrorBody),
    ))]
pub async fn create_token(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(request): JsonBody<NewToken>,
) -> Result<Response, ApiError> {
    let generate = GenerateRequest {
        name: &request.name,
        description: request.description.as_deref().unwrap_or(""),
        expiration: expiration(&request)?,
    };
    let generated = tokens::generate(&state, caller.user.id, generate).await?;
    let body = CreatedToken {
        token: Token::of(generated.token, state.clock.now()),
        secret: generated.secret.into_exposed(),
    };
    Ok(no_store((StatusCode::CREATED, Json(body)).into_response()))
}

/// A response that carries a secret must never be cached.
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Deletes one of the caller's tokens; it stops working on the very next request.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = i64, Path, description = "The token's id")),
    responses((status = 204), (status = 401, body = ErrorBody),
        (status = 404, description = "No such token of yours", body = ErrorBody)))]
pub async fn delete_token(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    tokens::delete(&state, caller.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct User {
    id: i64,
    username: String,
    display_name: String,
    role: Role,
    active: bool,
    #[serde(serialize_with = "crate::time::rfc3339")]
    created_at: DateTime<Utc>,
}

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
pub struct NewUser {
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
}

/// Creates an account (administrators only).
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", request_body = NewUser,
    responses((status = 201, body = OneUser), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "`username_taken`", body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    _: Admin,
    JsonBody(request): JsonBody<NewUser>,
) -> Result<Response, ApiError> {
    let form = AccountForm {
        username: &request.username,
        display_name: request.display_name.as_deref().unwrap_or(""),
        password: &request.password,
        role: request.role.unwrap_or(Role::User),
    };
    let user = service::create_user(&state, form).await?;
    Ok((StatusCode::CREATED, Json(OneUser { user: user.into() })).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    active: Option<bool>,
    role: Option<Role>,
}

/// Activates, deactivates or changes the role of an account (administrators only). The last
/// active administrator cannot be deactivated or demoted.
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "admin", request_body = UserChange,
    params(("id" = i64, Path, description = "The user's id")),
    responses((status = 200, body = OneUser), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`last_admin`", body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    _: Admin,
    IdPath(id): IdPath,
    JsonBody(change): JsonBody<UserChange>,
) -> Result<Json<OneUser>, ApiError> {
    let change = AccessChange {
        active: change.active,
        role: change.role,
    };
    let user = service::change_access(&state, id, change).await?;
    Ok(Json(OneUser { user: user.into() }))
}
