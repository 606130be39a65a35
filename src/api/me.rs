//! `GET /api/v1/me`: who the caller is and how they authenticated; `PATCH /api/v1/me`: their
//! display name and e-mail address (SPEC §17), as on the Profile and Notifications pages.

use crate::api::extract::{Authenticated, JsonBody};
use crate::web::api_error::ErrorBody;
use crate::web::principal::{Credential, Principal};
use crate::web::state::AppState;
use crate::web::ApiError;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me, change_me))
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    #[serde(flatten)]
    user: crate::domain::accounts::Me,
    /// The address notifications go to, verified or not.
    #[schema(example = "ada@example.com")]
    email: Option<String>,
    /// Whether that address was confirmed by its link; nothing but the link is mailed before.
    email_verified: bool,
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

impl Me {
    fn of(caller: &Principal) -> Me {
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
        Me {
            user: caller.me(),
            email: caller.user.email.clone(),
            email_verified: caller.user.email_verified,
            auth: caller.credential.kind(),
            token,
        }
    }
}

/// The caller, as whoever they authenticated as.
#[utoipa::path(get, path = "/api/v1/me", tag = "users",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(Authenticated(caller): Authenticated) -> Json<Me> {
    Json(Me::of(&caller))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeMe {
    /// 1–100 characters.
    #[schema(example = "Ada Lovelace")]
    display_name: Option<String>,
    /// A new address is unverified until its link (mailed to it) is followed; `""` removes it.
    #[schema(example = "ada@example.com")]
    email: Option<String>,
}

/// Changes the caller's display name and e-mail address; the caller as they now are.
#[utoipa::path(patch, path = "/api/v1/me", tag = "users", request_body = ChangeMe,
    responses((status = 200, body = Me), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 422, description = "`invalid_name`, `invalid_email` or `mail_off`",
            body = ErrorBody),
        (status = 429, description = "Too many address changes lately", body = ErrorBody)))]
pub async fn change_me(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(change): JsonBody<ChangeMe>,
) -> Result<Json<Me>, ApiError> {
    let mut me = Me::of(&caller);
    if let Some(display_name) = &change.display_name {
        state
            .accounts()
            .change_display_name(caller.user.id, display_name)
            .await?;
        me.user.display_name = display_name.trim().to_owned();
    }
    if let Some(email) = &change.email {
        let notifications = state.notifications();
        notifications.set_email(caller.user.id, email).await?;
        let settings = notifications.settings(caller.user.id).await?;
        me.email = settings.email;
        me.email_verified = settings.email_verified;
    }
    Ok(Json(me))
}
