//! The caller's webhook (SPEC §11, §17): `PUT`/`GET`/`DELETE /api/v1/me/webhook`, a test event,
//! and the last 20 deliveries — what Profile › Notifications does, for scripts and CI jobs.

use crate::api::extract::{Authenticated, JsonBody};
use crate::api::schema::no_store;
use crate::store::DeliveryRecord;
use crate::web::api_error::ErrorBody;
use crate::web::state::AppState;
use crate::web::ApiError;
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
        .routes(routes!(get_webhook, set_webhook, remove_webhook))
        .routes(routes!(test_webhook))
        .routes(routes!(list_deliveries))
}

#[derive(Serialize, ToSchema)]
pub struct Webhook {
    #[schema(example = "https://ci.example.com/patio-events")]
    url: String,
    #[serde(serialize_with = "crate::time::rfc3339")]
    created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookAnswer {
    /// The caller's webhook, if there is one.
    webhook: Option<Webhook>,
}

#[derive(Serialize, ToSchema)]
pub struct NewWebhook {
    webhook: Webhook,
    /// Signs every delivery (`Patio-Signature`); in this answer only.
    #[schema(example = "patio_whsec_…")]
    secret: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetWebhook {
    /// An `http://` or `https://` address on a public host.
    #[schema(example = "https://ci.example.com/patio-events")]
    url: String,
}

/// The caller's webhook.
#[utoipa::path(get, path = "/api/v1/me/webhook", tag = "notifications",
    responses((status = 200, body = WebhookAnswer), (status = 401, body = ErrorBody)))]
pub async fn get_webhook(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<WebhookAnswer>, ApiError> {
    let settings = state.notifications().settings(caller.user.id).await?;
    Ok(Json(WebhookAnswer {
        webhook: settings.webhook.map(|hook| Webhook {
            url: hook.url,
            created_at: hook.created_at,
        }),
    }))
}

/// Registers (or replaces) the caller's webhook; its signing secret, shown this once.
#[utoipa::path(put, path = "/api/v1/me/webhook", tag = "notifications",
    request_body = SetWebhook,
    responses((status = 200, body = NewWebhook), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 422, description = "`invalid_url`: not an http(s) address on a public host",
            body = ErrorBody)))]
pub async fn set_webhook(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(body): JsonBody<SetWebhook>,
) -> Result<Response, ApiError> {
    let notifications = state.notifications();
    let secret = notifications.set_webhook(caller.user.id, &body.url).await?;
    let settings = notifications.settings(caller.user.id).await?;
    let Some(hook) = settings.webhook else {
        return Err(ApiError::NotFound);
    };
    let answer = NewWebhook {
        webhook: Webhook {
            url: hook.url,
            created_at: hook.created_at,
        },
        secret,
    };
    Ok(no_store(Json(answer).into_response()))
}

/// Removes the caller's webhook (204 also when there was none).
#[utoipa::path(delete, path = "/api/v1/me/webhook", tag = "notifications",
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn remove_webhook(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<StatusCode, ApiError> {
    state.notifications().remove_webhook(caller.user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Queues a test event to each of the caller's channels (at most 5 in 10 minutes).
#[utoipa::path(post, path = "/api/v1/me/webhook/test", tag = "notifications",
    responses((status = 202), (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn test_webhook(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<StatusCode, ApiError> {
    state.notifications().send_test(caller.user.id).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Serialize, ToSchema)]
pub struct Delivery {
    id: i64,
    /// When it was queued.
    #[serde(serialize_with = "crate::time::rfc3339")]
    at: DateTime<Utc>,
    #[schema(example = "token_expires_in_7_days")]
    event: String,
    /// `delivered`, `retrying` (or waiting for its first try) or `failed` (given up).
    #[schema(example = "delivered")]
    status: &'static str,
    /// The endpoint's last HTTP status, when it answered.
    #[schema(example = 204)]
    response_status: Option<u16>,
    attempts: i64,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    deliveries: Vec<Delivery>,
}

impl From<DeliveryRecord> for Delivery {
    fn from(record: DeliveryRecord) -> Delivery {
        let status = match (record.sent_at, record.failed_at) {
            (Some(_), _) => "delivered",
            (_, Some(_)) => "failed",
            _ => "retrying",
        };
        // The sender records an answer as "HTTP <status>".
        let response_status = record
            .last_status
            .as_deref()
            .and_then(|line| line.strip_prefix("HTTP "))
            .and_then(|code| code.parse().ok());
        Delivery {
            id: record.id,
            at: record.created_at,
            event: record.kind,
            status,
            response_status,
            attempts: record.attempts,
        }
    }
}

/// The caller's last 20 webhook deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/me/webhook/deliveries", tag = "notifications",
    responses((status = 200, body = DeliveryList), (status = 401, body = ErrorBody)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<DeliveryList>, ApiError> {
    let deliveries = state
        .notifications()
        .deliveries(caller.user.id, Some("webhook"))
        .await?;
    Ok(Json(DeliveryList {
        deliveries: deliveries.into_iter().map(Delivery::from).collect(),
    }))
}
