//! `/api/v1/tokens`: the caller's own tokens (SPEC §5, §10, §17).

use crate::api::extract::{Authenticated, IdPath, JsonBody, OptionalJsonBody};
use crate::api::schema::{no_store, OneToken, Token, TokenList};
use crate::domain::events::Origin;
use crate::web::api_error::ErrorBody;
use crate::web::principal::Principal;
use crate::web::state::AppState;
use crate::web::ApiError;

use crate::tokens::rules::{Access, ExpirationRequest, TokenError};
use crate::tokens::service::{EditRequest, GenerateRequest};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(edit_token, delete_token))
        .routes(routes!(regenerate_token))
        .routes(routes!(own_token, delete_own_token))
        .routes(routes!(regenerate_own_token))
}

/// The caller's own tokens, active, expired and revoked, newest first. Never a secret.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, body = TokenList), (status = 401, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<TokenList>, ApiError> {
    let now = state.clock.now();
    let tokens = state.tokens().list(caller.user.id).await?;
    Ok(Json(TokenList {
        tokens: tokens.into_iter().map(|t| Token::of(t, now)).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateTokenBody {
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
    /// `read_write` (the default) or `read`.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^(read_write|read)$", example = "read")]
    access: Option<Access>,
    /// Up to 10 IP addresses or CIDR networks (IPv4 or IPv6) the token may be used from; empty
    /// or absent means anywhere.
    #[serde(default)]
    #[schema(max_items = 10, example = json!(["203.0.113.0/24", "2001:db8::/32"]))]
    allowed_ips: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    token: Token,
    /// The secret, shown this once. Store it now.
    #[schema(example = "patio_…")]
    secret: String,
}

fn expiration(request: &GenerateTokenBody) -> Result<ExpirationRequest, ApiError> {
    requested_expiration(&request.expires_at, request.expires_in_days)?.ok_or_else(|| {
        TokenError::InvalidExpiration(
            "Give `expires_at` (an RFC 3339 date-time) or `expires_in_days` (1–365).".into(),
        )
        .into()
    })
}

/// The expiration a body asks for, if it asks for one.
fn requested_expiration(
    expires_at: &Option<String>,
    expires_in_days: Option<f64>,
) -> Result<Option<ExpirationRequest>, ApiError> {
    let request = match (expires_at, expires_in_days) {
        (Some(_), Some(_)) => Err(TokenError::InvalidExpiration(
            "Give either `expires_at` or `expires_in_days`, not both.".into(),
        )
        .into()),
        (None, None) => return Ok(None),
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
    };
    request.map(Some)
}

fn entries(list: &Option<Vec<String>>) -> Option<Vec<&str>> {
    list.as_ref()
        .map(|entries| entries.iter().map(String::as_str).collect())
}

/// Generates a token. The response is the only time the secret is shown.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = GenerateTokenBody,
    responses(
        (status = 201, body = CreatedToken),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "`insufficient_scope`: a read-only token", body = ErrorBody),
        (status = 409, description = "`token_limit_reached`", body = ErrorBody),
        (status = 422, description = "`invalid_name`, `duplicate_name`, `invalid_expiration`", body = ErrorBody),
    ))]
pub async fn create_token(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    origin: Origin,
    JsonBody(request): JsonBody<GenerateTokenBody>,
) -> Result<Response, ApiError> {
    let generate = GenerateRequest {
        name: &request.name,
        description: request.description.as_deref().unwrap_or(""),
        expiration: expiration(&request)?,
        access: request.access.unwrap_or_default(),
        allowed_ips: entries(&request.allowed_ips).unwrap_or_default(),
    };
    let generated = state
        .tokens()
        .generate(caller.user.id, generate, &origin)
        .await?;
    let body = CreatedToken {
        token: Token::of(generated.token, state.clock.now()),
        secret: generated.secret.into_exposed(),
    };
    Ok(no_store((StatusCode::CREATED, Json(body)).into_response()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenChange {
    /// As when generating; unique among your active tokens.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    name: Option<String>,
    #[schema(
        max_length = 500,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    description: Option<String>,
    #[schema(value_type = Option<String>, pattern = "^(read_write|read)$")]
    access: Option<Access>,
    #[schema(max_items = 10)]
    allowed_ips: Option<Vec<String>>,
}

/// Changes the name, description, access or allowlist of one of the caller's tokens.
#[utoipa::path(patch, path = "/api/v1/tokens/{id}", tag = "tokens", request_body = TokenChange,
    params(("id" = i64, Path, description = "The token's id")),
    responses((status = 200, body = OneToken), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such token of yours", body = ErrorBody),
        (status = 422, description = "`invalid_name`, `duplicate_name`", body = ErrorBody)))]
pub async fn edit_token(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    IdPath(id): IdPath,
    origin: Origin,
    JsonBody(change): JsonBody<TokenChange>,
) -> Result<Json<OneToken>, ApiError> {
    let request = EditRequest {
        name: change.name.as_deref(),
        description: change.description.as_deref(),
        access: change.access,
        allowed_ips: entries(&change.allowed_ips),
    };
    let token = state
        .tokens()
        .edit(caller.user.id, id, request, &origin)
        .await?;
    Ok(Json(OneToken {
        token: Token::of(token, state.clock.now()),
    }))
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
    origin: Origin,
) -> Result<StatusCode, ApiError> {
    state.tokens().delete(caller.user.id, id, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Renewal {
    /// An RFC 3339 instant after now and at most 365 days ahead.
    #[schema(format = DateTime, example = "2027-01-31T23:59:59Z")]
    expires_at: Option<String>,
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 365, example = 90)]
    expires_in_days: Option<f64>,
}

/// Regenerates `id` for `user_id`: the answer carries the new secret, the only time it is shown.
async fn regenerated(
    state: &AppState,
    user_id: i64,
    id: i64,
    renewal: Option<Renewal>,
    origin: &Origin,
) -> Result<Response, ApiError> {
    let expiration = match &renewal {
        Some(renewal) => requested_expiration(&renewal.expires_at, renewal.expires_in_days)?,
        None => None,
    };
    let generated = state
        .tokens()
        .regenerate(user_id, id, expiration, origin)
        .await?;
    let body = CreatedToken {
        token: Token::of(generated.token, state.clock.now()),
        secret: generated.secret.into_exposed(),
    };
    Ok(no_store((StatusCode::OK, Json(body)).into_response()))
}

/// Gives one of the caller's tokens a new secret; the old one stops working at once. Name,
/// description, access, allowlist and id stay. Without a body the token keeps the lifetime it
/// had (at most a year), from now.
#[utoipa::path(post, path = "/api/v1/tokens/{id}/regenerate", tag = "tokens",
    request_body(content = Option<Renewal>, description = "Optional: a new expiration"),
    params(("id" = i64, Path, description = "The token's id")),
    responses((status = 200, body = CreatedToken), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such token of yours", body = ErrorBody),
        (status = 409, description = "`token_limit_reached`: an expired token cannot come back", body = ErrorBody),
        (status = 422, description = "`invalid_request`: revoked as leaked or by an administrator; `invalid_expiration`", body = ErrorBody)))]
pub async fn regenerate_token(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    IdPath(id): IdPath,
    origin: Origin,
    OptionalJsonBody(renewal): OptionalJsonBody<Renewal>,
) -> Result<Response, ApiError> {
    regenerated(&state, caller.user.id, id, renewal, &origin).await
}

/// The token a request authenticated with; others get 400.
fn calling_token(caller: &Principal) -> Result<i64, ApiError> {
    caller.credential.token_id().ok_or_else(|| {
        ApiError::InvalidRequest(
            "This route acts on the personal access token the request is authenticated with; \
             send one as `Authorization: Bearer <token>`."
                .into(),
        )
    })
}

/// The token this request is authenticated with (personal access tokens only).
#[utoipa::path(get, path = "/api/v1/tokens/self", tag = "tokens",
    responses((status = 200, body = OneToken),
        (status = 400, description = "Not authenticated by a personal access token", body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn own_token(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<OneToken>, ApiError> {
    let id = calling_token(&caller)?;
    let token = state.tokens().get(caller.user.id, id).await?;
    Ok(Json(OneToken {
        token: Token::of(token, state.clock.now()),
    }))
}

/// Deletes the token this request is authenticated with.
#[utoipa::path(delete, path = "/api/v1/tokens/self", tag = "tokens",
    responses((status = 204),
        (status = 400, description = "Not authenticated by a personal access token", body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn delete_own_token(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    origin: Origin,
) -> Result<StatusCode, ApiError> {
    let id = calling_token(&caller)?;
    state.tokens().delete(caller.user.id, id, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Regenerates the token this request is authenticated with, so a job can rotate its own
/// credential: the new secret is in this answer only, and the one just used stops working.
#[utoipa::path(post, path = "/api/v1/tokens/self/regenerate", tag = "tokens",
    request_body(content = Option<Renewal>, description = "Optional: a new expiration"),
    responses((status = 200, body = CreatedToken),
        (status = 400, description = "Not authenticated by a personal access token", body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn regenerate_own_token(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    origin: Origin,
    OptionalJsonBody(renewal): OptionalJsonBody<Renewal>,
) -> Result<Response, ApiError> {
    let id = calling_token(&caller)?;
    regenerated(&state, caller.user.id, id, renewal, &origin).await
}
