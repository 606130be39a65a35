//! `GET /api/v1/me/events`: the caller's security log (SPEC §10), newest first, paged.

use crate::api::extract::Authenticated;
use crate::api::schema::UserRef;
use crate::domain::events::EventKind;
use crate::events::service::{self as events, MAX_PAGE};
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
    OpenApiRouter::new().routes(routes!(list_events))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// The `next` of the previous page: events older than this id.
    before: Option<i64>,
    /// 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Event {
    id: i64,
    #[schema(example = "token_created")]
    kind: EventKind,
    #[serde(serialize_with = "crate::time::rfc3339")]
    at: DateTime<Utc>,
    /// What happened, in a sentence.
    #[schema(example = "Token ‘ci’ was created.")]
    description: String,
    /// The client address the action came from (SPEC §9), when there was one.
    #[schema(example = "203.0.113.7")]
    client_ip: Option<String>,
    /// The client's user agent, shortened.
    #[schema(example = "curl/8.5.0")]
    user_agent: Option<String>,
    /// The token the event is about, with the name it had then.
    token: Option<EventToken>,
    /// Who acted, when it was not you (an administrator).
    actor: Option<UserRef>,
    /// What the kind alone does not say: a revocation's reason (`admin`, `leaked`, `unused`,
    /// `deactivated`), a new role, a refusal's cause (`address_not_allowed`,
    /// `insufficient_scope`).
    detail: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EventToken {
    id: i64,
    name: String,
}

#[derive(Serialize, ToSchema)]
pub struct EventPage {
    events: Vec<Event>,
    /// The `before` of the next (older) page, or null on the last.
    next: Option<i64>,
}

/// Your security log: sign-ins, password changes, and what happened to your tokens, newest
/// first.
#[utoipa::path(get, path = "/api/v1/me/events", tag = "users", params(EventQuery),
    responses((status = 200, body = EventPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_events(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    query: Result<Query<EventQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EventPage>, ApiError> {
    let Query(query) =
        query.map_err(|rejection| ApiError::InvalidRequest(rejection.body_text()))?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::Unprocessable {
            code: "invalid_request",
            message: format!("`limit` is from 1 to {MAX_PAGE}."),
        });
    }
    let page = state
        .events()
        .page(caller.user.id, query.before, limit)
        .await?;
    Ok(Json(EventPage {
        events: page
            .events
            .into_iter()
            .map(|event| Event {
                description: events::describe(&event),
                id: event.id,
                kind: event.kind,
                at: event.at,
                client_ip: event.client_ip,
                user_agent: event.user_agent,
                token: event.token_id.map(|id| EventToken {
                    id,
                    name: event.token_name.unwrap_or_default(),
                }),
                actor: event.actor.map(UserRef::from),
                detail: event.detail,
            })
            .collect(),
        next: page.next_before,
    }))
}
