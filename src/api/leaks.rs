//! Leaked-token intake (SPEC §13, §17): `POST /api/v1/credentials/revoke` in GitHub's spirit
//! (a list of strings, unauthenticated), and GitLab's Token Revocation API contract
//! (`GET /api/v1/gitlab/revocable_token_types`, `POST /api/v1/gitlab/revoke_tokens`, with the
//! pre-shared token of `PATIO_REVOCATION_TOKEN` in `Authorization`), so that a self-managed
//! GitLab's secret detection revokes the Patio tokens it finds in commits.

use crate::admin::leaks::{self, MAX_CREDENTIALS};
use crate::api::extract::JsonBody;
use crate::domain::events::Origin;
use crate::web::api_error::ErrorBody;
use crate::web::state::AppState;
use crate::web::ApiError;
use crate::web::ClientAddress;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(revoke_credentials))
        .routes(routes!(revocable_token_types))
        .routes(routes!(revoke_tokens))
}

/// The token type Patio's tokens go by in GitLab: GitLab names a finding's type after the rule
/// that found it (`gitleaks_rule_id_` + the rule's id), and a custom rule would be named after
/// Patio's type.
const TOKEN_TYPES: [&str; 2] = [
    "patio_personal_access_token",
    "gitleaks_rule_id_patio_personal_access_token",
];

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeakReport {
    /// Strings found in public places; those that are live Patio personal access tokens are
    /// revoked.
    #[schema(min_items = 1, max_items = 1000, example = json!(["patio_…"]))]
    credentials: Vec<String>,
}

/// Reports leaked credentials (no authentication). Every string that is a live Patio personal
/// access token is revoked as leaked, and its owner can see why. The answer is the same, and as
/// fast, whatever the report held; at most 60 reports an hour per address.
#[utoipa::path(post, path = "/api/v1/credentials/revoke", tag = "leaks", security(()),
    request_body = LeakReport,
    responses((status = 202, description = "Accepted; live tokens among them are revoked"),
        (status = 400, body = ErrorBody),
        (status = 422, description = "`invalid_request`: none, or more than 1000", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn revoke_credentials(
    State(state): State<AppState>,
    client: ClientAddress,
    origin: Origin,
    JsonBody(report): JsonBody<LeakReport>,
) -> Result<StatusCode, ApiError> {
    if report.credentials.is_empty() || report.credentials.len() > MAX_CREDENTIALS {
        return Err(ApiError::Unprocessable {
            code: "invalid_request",
            message: format!("Report from 1 to {MAX_CREDENTIALS} credentials at a time."),
        });
    }
    admit(&state.leak_reports, client, state.clock.now())?;
    let digests = leaks::candidates(report.credentials.iter().map(String::as_str));
    state.leak_intake().accept(digests, &origin).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Counts a report against `budget`, or refuses it with 429.
fn admit(
    budget: &leaks::ReportLimiter,
    client: ClientAddress,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    budget
        .admit(client.0, now)
        .map_err(|retry_after_secs| ApiError::RateLimited {
            message: "Too many reports from this address. Try again later.".into(),
            retry_after_secs,
        })
}

/// GitLab sends the pre-shared token as the whole `Authorization` value (a `Bearer ` prefix is
/// accepted too). Without `PATIO_REVOCATION_TOKEN` these routes do not exist. Wrong tokens
/// count toward the address's guess limit.
fn check_gitlab(
    state: &AppState,
    client: ClientAddress,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let Some(sent) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim())
    else {
        return Err(ApiError::Unauthorized);
    };
    let Some(expected) = state.config.revocation_token.as_deref() else {
        return Err(ApiError::NotFound);
    };
    state
        .may_guess(client.0)
        .map_err(|retry_after_secs| ApiError::RateLimited {
            message: "Too many wrong tokens from this address. Try again later.".into(),
            retry_after_secs,
        })?;
    if bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        state.guessed_wrong(client.0);
        Err(ApiError::Unauthorized)
    }
}

#[derive(Serialize, ToSchema)]
pub struct TokenTypes {
    #[schema(example = json!(["patio_personal_access_token"]))]
    types: Vec<&'static str>,
}

/// GitLab's Token Revocation API: the token types this service revokes.
#[utoipa::path(get, path = "/api/v1/gitlab/revocable_token_types", tag = "leaks",
    security(("gitlab" = [])),
    responses((status = 200, body = TokenTypes), (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 404, description = "`PATIO_REVOCATION_TOKEN` is not set", body = ErrorBody)))]
pub async fn revocable_token_types(
    State(state): State<AppState>,
    client: ClientAddress,
    headers: HeaderMap,
) -> Result<Json<TokenTypes>, ApiError> {
    check_gitlab(&state, client, &headers)?;
    Ok(Json(TokenTypes {
        types: TOKEN_TYPES.to_vec(),
    }))
}

/// One finding, as GitLab sends it; its `location` and any other fields are ignored.
#[derive(Deserialize, ToSchema)]
pub struct GitLabFinding {
    #[serde(rename = "type")]
    #[schema(example = "patio_personal_access_token")]
    token_type: String,
    token: String,
}

/// GitLab's Token Revocation API: revokes the reported Patio tokens that are live. `204` for
/// any valid report; `400` for a body that is not a list of findings of Patio's types.
#[utoipa::path(post, path = "/api/v1/gitlab/revoke_tokens", tag = "leaks",
    security(("gitlab" = [])),
    request_body = Vec<GitLabFinding>,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, description = "`PATIO_REVOCATION_TOKEN` is not set", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn revoke_tokens(
    State(state): State<AppState>,
    client: ClientAddress,
    origin: Origin,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    check_gitlab(&state, client, &headers)?;
    let findings: Vec<GitLabFinding> = serde_json::from_slice(&body).map_err(|_| {
        ApiError::InvalidRequest(
            "The body must be a JSON array of {\"type\", \"token\", \"location\"} objects.".into(),
        )
    })?;
    if findings.len() > MAX_CREDENTIALS {
        return Err(ApiError::InvalidRequest(format!(
            "Report at most {MAX_CREDENTIALS} tokens at a time."
        )));
    }
    if let Some(other) = findings
        .iter()
        .find(|finding| !TOKEN_TYPES.contains(&finding.token_type.as_str()))
    {
        return Err(ApiError::InvalidRequest(format!(
            "Patio does not revoke tokens of the type ‘{}’.",
            other.token_type.chars().take(80).collect::<String>()
        )));
    }
    admit(&state.gitlab_reports, client, state.clock.now())?;
    let digests = leaks::candidates(findings.iter().map(|finding| finding.token.as_str()));
    state.leak_intake().accept(digests, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}
