//! The request context of a page: what server functions and server rendering ask about the
//! request they serve — its caller, its origin, whether it is a plain form post — and what they
//! set on its answer.

use crate::domain::accounts::Role;
use crate::web::page_error::AppError;
use crate::web::principal::Principal;
use crate::web::state::AppState;
use crate::web::Caller;
use leptos::prelude::*;

pub fn state() -> AppState {
    expect_context::<AppState>()
}

fn parts() -> Option<http::request::Parts> {
    use_context::<http::request::Parts>()
}

/// The caller the guard resolved for this request.
pub fn caller() -> Result<Principal, AppError> {
    parts()
        .and_then(|parts| parts.extensions.get::<Caller>().cloned())
        .and_then(|Caller(caller)| caller)
        .ok_or(AppError::SignedOut)
}

pub fn admin() -> Result<Principal, AppError> {
    let caller = caller()?;
    if caller.user.role == Role::Admin {
        Ok(caller)
    } else {
        Err(AppError::Forbidden)
    }
}

/// Who is acting and from where, for the security log.
pub fn origin() -> crate::domain::events::Origin {
    parts()
        .map(|parts| crate::web::origin_of(&parts))
        .unwrap_or_default()
}

/// Where users reach Patio (`PATIO_PUBLIC_URL`), without a trailing slash. Never taken from
/// the request, so no crafted `Host` header puts another address on a page.
pub fn public_url() -> String {
    state()
        .config
        .public_url
        .as_str()
        .trim_end_matches('/')
        .to_owned()
}

/// Whether this request is a plain HTML form post (no WebAssembly), which expects a redirect.
pub fn is_plain_form_post() -> bool {
    parts().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

/// Sends a plain form post back to the page at `to` (which says what happened) instead of
/// Leptos's default, the page it came from.
pub fn back_to_form(to: &str) {
    if is_plain_form_post() {
        leptos_axum::redirect(to);
    }
}

/// Sets a header of the answer being rendered.
pub fn set_header(name: http::HeaderName, value: http::HeaderValue) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(name, value);
    }
}

/// Sets the status of the page being rendered.
pub fn set_status(status: http::StatusCode) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
}

/// Signs `user_id` in: ends the session the browser had (a new id on every sign-in),
/// starts a new one in the response's cookie, and sends the browser on to `next` (a plain
/// form post by a redirect; the hydrated page through its redirect hook). Returns `next`.
pub async fn start_session(user_id: i64, next: String) -> Result<String, AppError> {
    let state = state();
    if let Some(old) = parts()
        .as_ref()
        .and_then(|p| crate::accounts::sessions::id_from(&p.headers))
    {
        state
            .store
            .sign_out(
                &crate::tokens::secret::digest(old),
                state.clock.now(),
                &origin(),
            )
            .await?;
    }
    let cookie = crate::accounts::sessions::start(
        &state.store,
        state.clock.now(),
        state.config.secure_cookies(),
        user_id,
        &origin(),
    )
    .await?;
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.append_header(http::header::SET_COOKIE, cookie);
    }
    leptos_axum::redirect(&next);
    Ok(next)
}
