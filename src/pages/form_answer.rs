//! Answers to plain HTML form posts that must show something only once — a new secret — and so
//! cannot redirect: the page itself is rendered as the answer to the post, with what the post
//! came to in context. The guard has checked the origin (CSRF) and marks the answer `no-store`.

use crate::web::page_error::AppError;
use crate::web::principal::Principal;
use crate::web::state::AppState;
use axum::body::Body;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::response::Response;
use leptos::prelude::provide_context;
use std::collections::HashMap;

/// The signed-in caller of a form post.
pub fn caller(parts: &Parts) -> Result<Principal, AppError> {
    parts
        .extensions
        .get::<crate::web::Caller>()
        .and_then(|caller| caller.0.clone())
        .ok_or(AppError::SignedOut)
}

/// The fields of an `application/x-www-form-urlencoded` body; a repeated field keeps its last
/// value.
pub async fn fields(body: Body) -> Result<HashMap<String, String>, AppError> {
    let body = axum::body::to_bytes(body, crate::web::state::MAX_BODY_BYTES)
        .await
        .map_err(|_| AppError::Request("The form could not be read.".into()))?;
    Ok(url::form_urlencoded::parse(&body).into_owned().collect())
}

/// Renders the page at the post's own address, as for a `GET`, with `outcome` provided to it.
pub async fn render<T: Clone + Send + Sync + 'static>(
    state: AppState,
    parts: Parts,
    outcome: T,
) -> Response {
    let options = state.config.leptos.clone();
    let shell = state.shell;
    let render = leptos_axum::render_app_to_stream_with_context(
        move || {
            provide_context(state.clone());
            provide_context(outcome.clone());
        },
        move || shell(options.clone()),
    );
    let mut request = Request::from_parts(parts, Body::empty());
    *request.method_mut() = http::Method::GET;
    render(request).await
}
