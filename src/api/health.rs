//! `GET /healthz`: whether the database answers.

use crate::db::Outage;
use crate::web::api_error::ErrorBody;
use crate::web::state::AppState;
use crate::web::ApiError;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    status: &'static str,
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
