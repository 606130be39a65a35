//! `GET /api/v1/me`: who the caller is and how they authenticated.

use crate::api::extract::Authenticated;
use crate::web::api_error::ErrorBody;
use crate::web::principal::Credential;
use crate::web::state::AppState;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    #[serde(flatten)]
    user: crate::domain::accounts::Me,
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
            ..
        } => Some(MeToken {
            id: *id,
            name: name.clone(),
            expires_at: *expires_at,
        }),
        _ => None,
    };
    Json(Me {
        user: caller.me(),
        auth: caller.credential.kind(),
        token,
    })
}
