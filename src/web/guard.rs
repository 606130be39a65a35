//! The guard every dynamic request passes: where it came from (SPEC §9), CSRF (§1), who is
//! calling and whether their credential may make this request (§12), where a page visit must go
//! first, and the caching rule for personal answers.

use crate::accounts::sessions;
use crate::domain::events::Origin;
use crate::web::client_address::{self, ClientAddress};
use crate::web::form_errors;
use crate::web::principal::{authenticate, AuthFailure, Principal};
use crate::web::state::AppState;
use crate::web::ApiError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The caller of the current request, as the guard resolved it.
#[derive(Clone, Debug)]
pub struct Caller(pub Option<Principal>);

/// Where people land after signing in when they were not going anywhere in particular.
pub const DEFAULT_LANDING: &str = "/settings/tokens";

/// Runs before every dynamic route.
pub async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let path = path.as_str();
    if path == "/healthz" || path.starts_with("/pkg/") {
        return next.run(request).await;
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    let client = client_address::resolve(peer, request.headers(), &state.config.trusted_proxies);
    request.extensions_mut().insert(client);
    let personal = is_personal(path);
    if authenticates_itself(path) {
        return no_store(next.run(request).await, personal);
    }
    if let Err(refusal) = check_origin(&state, request.method(), request.headers()) {
        return refusal.into_response();
    }
    let caller = match authenticate(&state, request.headers()).await {
        Ok(caller) => caller,
        Err(AuthFailure::InvalidToken) => return ApiError::InvalidToken.into_response(),
        Err(AuthFailure::Unavailable(error)) => return ApiError::from(error).into_response(),
    };
    if let Some(principal) = &caller {
        let method = request.method().as_str();
        let user_agent = request.headers().get(header::USER_AGENT);
        let user_agent = user_agent.and_then(|value| value.to_str().ok());
        let origin = Origin::new(Some(principal.user.id), Some(client.0), user_agent);
        if let Err(refused) = principal.check_use(&state, method, &origin).await {
            tracing::info!(
                token_id = principal.credential.token_id(),
                %client,
                %refused,
                "credential refused for this request"
            );
            return ApiError::from(refused).into_response();
        }
    }
    let page_visit = request.method() == Method::GET && is_page(path);
    if page_visit {
        match page_redirect(&state, request.uri(), caller.as_ref()).await {
            Ok(Some(to)) => return Redirect::to(&to).into_response(),
            Ok(None) => {}
            Err(error) => return ApiError::from(error).into_response(),
        }
    }
    // A plain form post's error, carried back in a cookie, is shown by the next page once.
    let posted = page_visit
        .then(|| form_errors::from_cookie(request.headers()))
        .flatten();
    if let Some(Some(error)) = &posted {
        request.extensions_mut().insert(error.clone());
    }
    request.extensions_mut().insert(Caller(caller));
    let mut response = next.run(request).await;
    let secure = state.config.secure_cookies();
    if path.starts_with("/rpc/") {
        response = form_errors::error_into_cookie(response, path, secure);
    }
    if posted.is_some() {
        response
            .headers_mut()
            .append(header::SET_COOKIE, form_errors::clearing_cookie(secure));
    }
    no_store(response, personal)
}

/// Routes that read their own credentials (client credentials, a proxy's sub-request) and are
/// never authenticated by the session cookie, so neither the caller nor CSRF applies.
fn authenticates_itself(path: &str) -> bool {
    path == "/connect/token"
        || path == crate::web::metrics::METRICS_PATH
        || path == "/oauth/introspect"
        || path == "/api/v1/credentials/revoke"
        || path.starts_with("/api/v1/gitlab/")
        || crate::gateway::is_verify_path(path)
}

fn is_page(path: &str) -> bool {
    ![
        "/api/",
        "/rpc/",
        "/connect/",
        "/logout",
        "/auth/",
        "/oauth/",
    ]
    .iter()
    .any(|prefix| path.starts_with(prefix))
}

/// Answers that may carry personal data or secrets: everything but static files.
fn is_personal(path: &str) -> bool {
    !path.starts_with("/pkg/") && !path.contains('.')
}

/// Personal answers, and every HTML page, are never stored by browsers or shared caches.
fn no_store(mut response: Response, personal: bool) -> Response {
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if (personal || html) && !response.headers().contains_key(header::CACHE_CONTROL) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Pages that need a signed-in user.
pub fn needs_sign_in(path: &str) -> bool {
    path.starts_with("/settings") || path.starts_with("/admin")
}

/// Where a page visit must go instead, if anywhere: to the same page without a form error in
/// its address (see `form_errors`), to first-run setup while there is no user, to sign-in for
/// signed-in pages, away from setup and sign-in when they no longer apply.
async fn page_redirect(
    state: &AppState,
    uri: &axum::http::Uri,
    caller: Option<&Principal>,
) -> Result<Option<String>, crate::db::StoreError> {
    if let Some(clean) = form_errors::without_error(uri) {
        return Ok(Some(clean));
    }
    let path = uri.path();
    let set_up = state.is_set_up().await?;
    Ok(if !set_up {
        (path != "/setup").then(|| "/setup".to_owned())
    } else if path == "/setup" {
        Some("/login".to_owned())
    } else if caller.is_none() && needs_sign_in(path) {
        let target = uri.path_and_query().map_or(path, |pq| pq.as_str());
        let next: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        Some(format!("/login?next={next}"))
    } else if caller.is_some() && path == "/login" {
        Some(DEFAULT_LANDING.to_owned())
    } else {
        None
    })
}

/// A local path to return to after signing in; anything else (another site, `//host`) is
/// replaced by the default landing page.
pub fn safe_next(next: &str) -> String {
    let local = next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\");
    if !local || next.chars().any(char::is_control) {
        return DEFAULT_LANDING.to_owned();
    }
    // A form error in the address would become the next page's alert (see `form_errors`).
    match next.parse::<axum::http::Uri>() {
        Ok(uri) => form_errors::without_error(&uri).unwrap_or_else(|| next.to_owned()),
        Err(_) => DEFAULT_LANDING.to_owned(),
    }
}

/// SPEC §1 CSRF: a state-changing request not authenticated by a Bearer header must come from
/// Patio's own origin. Without `Origin` and `Referer`, only a request carrying no session
/// cookie (a script, not a browser session) passes.
fn check_origin(state: &AppState, method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        || headers.contains_key(header::AUTHORIZATION)
    {
        return Ok(());
    }
    match claimed_origin(headers) {
        Some(origin) if origin == state.config.origin() => Ok(()),
        Some(_) => Err(ApiError::CrossSite),
        None if sessions::id_from(headers).is_some() => Err(ApiError::CrossSite),
        None => Ok(()),
    }
}

/// The origin a browser says a request comes from: `Origin`, or else that of `Referer`.
pub fn claimed_origin(headers: &HeaderMap) -> Option<String> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    match (text(header::ORIGIN), text(header::REFERER)) {
        (Some(origin), _) => Some(origin.to_owned()),
        (None, Some(referer)) => Some(
            url::Url::parse(referer)
                .map(|url| url.origin().ascii_serialization())
                .unwrap_or_default(),
        ),
        (None, None) => None,
    }
}

/// The client address the guard resolved, for handlers that extract it.
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientAddress>()
            .copied()
            .unwrap_or(ClientAddress(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(
            safe_next("/settings/profile?tab=1"),
            "/settings/profile?tab=1"
        );
        assert_eq!(safe_next("https://evil.example"), DEFAULT_LANDING);
        assert_eq!(safe_next("//evil.example"), DEFAULT_LANDING);
        assert_eq!(safe_next("/\\evil.example"), DEFAULT_LANDING);
        assert_eq!(safe_next(""), DEFAULT_LANDING);
        assert_eq!(safe_next("/a\nb"), DEFAULT_LANDING);
        assert_eq!(
            safe_next("/settings/profile?tab=1&__path=%2Frpc%2Fx&__err=e30%3D"),
            "/settings/profile?tab=1"
        );
    }

    #[test]
    fn pages_are_everything_but_the_machine_routes() {
        assert!(is_page("/"));
        assert!(is_page("/settings/tokens"));
        assert!(!is_page("/api/v1/me"));
        assert!(!is_page("/rpc/login"));
        assert!(!is_page("/connect/token"));
        assert!(!is_page("/auth/verify"));
        assert!(needs_sign_in("/settings/tokens"));
        assert!(needs_sign_in("/admin/users"));
        assert!(!needs_sign_in("/login"));
        assert!(authenticates_itself("/auth/verify/any/path"));
        assert!(!authenticates_itself("/auth/verifying"));
        assert!(is_personal("/api/v1/me") && !is_personal("/favicon.svg"));
    }
}
