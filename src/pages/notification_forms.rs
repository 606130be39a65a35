//! The notification routes that are not pages: the settings form posts that show a secret
//! once, the verification link, and the calendar files.

use crate::notify::service;
use crate::pages::form_answer;
use crate::pages::notifications::{NotifyOutcome, NOTIFICATIONS_PATH};
use crate::web::page_error::AppError;
use crate::web::state::AppState;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(NOTIFICATIONS_PATH, post(settings_answer))
        .route("/email/verify", get(verify_link))
        .route("/settings/tokens.ics", get(own_calendar))
        .route("/calendar/{file}", get(feed_calendar))
}

/// `POST /settings/notifications`: registers the webhook (`action=webhook`) or makes a new
/// calendar feed (`action=calendar`), and answers with the page showing its secret once.
async fn settings_answer(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let fields = form_answer::fields(body).await.unwrap_or_default();
    let caller = form_answer::caller(&parts);
    let outcome = match fields.get("action").map(String::as_str) {
        Some("calendar") => NotifyOutcome::CalendarFeed(match caller {
            Ok(caller) => state
                .notifications()
                .reset_calendar_feed(caller.user.id)
                .await
                .map(|feed| {
                    let base = state.config.public_url.as_str().trim_end_matches('/');
                    format!("{base}/calendar/{feed}.ics")
                })
                .map_err(AppError::from),
            Err(error) => Err(error),
        }),
        _ => NotifyOutcome::Webhook(match caller {
            Ok(caller) => {
                let url = fields.get("url").map_or("", String::as_str);
                state
                    .notifications()
                    .set_webhook(caller.user.id, url)
                    .await
                    .map_err(AppError::from)
            }
            Err(error) => Err(error),
        }),
    };
    form_answer::render(state, parts, outcome).await
}

#[derive(serde::Deserialize)]
struct VerifyQuery {
    token: Option<String>,
}

/// `GET /email/verify?token=…`: the link in a verification mail. Works without a session (a
/// mail may be opened in another browser); the link is single-use and expires.
async fn verify_link(State(state): State<AppState>, Query(query): Query<VerifyQuery>) -> Response {
    let verified = match query.token.as_deref() {
        Some(token) => state.notifications().verify_email(token).await,
        None => Ok(false),
    };
    match verified {
        Ok(true) => Redirect::to(&format!("{NOTIFICATIONS_PATH}?verified=1")).into_response(),
        Ok(false) => Redirect::to(&format!("{NOTIFICATIONS_PATH}?verified=0")).into_response(),
        Err(error) => refusal(error.into()),
    }
}

/// `GET /settings/tokens.ics`: the signed-in user's token expiries.
async fn own_calendar(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    match form_answer::caller(&parts) {
        Ok(caller) => calendar_answer(
            state
                .notifications()
                .calendar(caller.user.id)
                .await
                .map(Some),
        ),
        Err(_) => StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// `GET /calendar/{secret}.ics`: the feed a calendar app polls, by its secret address.
async fn feed_calendar(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(feed) = file.strip_suffix(".ics") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    calendar_answer(state.notifications().calendar_by_feed(feed).await)
}

fn calendar_answer(calendar: Result<Option<String>, service::NotifyError>) -> Response {
    match calendar {
        Ok(Some(ics)) => {
            let mut response = ics.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/calendar; charset=utf-8"),
            );
            headers.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("inline; filename=\"patio-tokens.ics\""),
            );
            // One person's token names and expiries: no shared cache may keep them, and a
            // calendar app asks again each time anyway.
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            response
        }
        Ok(None) => (StatusCode::NOT_FOUND, "No such calendar feed.\n").into_response(),
        Err(error) => refusal(error.into()),
    }
}

/// An error as a plain-text answer with its status (a database outage is 503).
fn refusal(error: AppError) -> Response {
    let status = error.status();
    (status, format!("{error}\n")).into_response()
}
