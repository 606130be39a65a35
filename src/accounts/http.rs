//! The HTTP edge of accounts: the guard every request passes (CSRF, who is calling, where a
//! page visit must go first), `POST /logout`, and the password grant `POST /connect/token`.

use super::principal::{authenticate, AuthFailure, Credential, Principal};
use super::service::{self, AccountError};
use super::sessions;
use crate::api::ApiError;
use crate::server::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use std::net::SocketAddr;

/// The caller of the current request, as the guard resolved it.
#[derive(Clone, Debug)]
pub struct Caller(pub Option<Principal>);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/logout", post(logout))
        .route("/connect/token", post(connect_token))
}

/// Runs before every dynamic route.
pub async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == "/healthz" || path.starts_with("/pkg/") {
        return next.run(request).await;
    }
    if let Err(refusal) = check_origin(&state, request.method(), request.headers()) {
        return refusal.into_response();
    }
    let caller = match authenticate(&state, request.headers()).await {
        Ok(caller) => caller,
        Err(AuthFailure::InvalidToken) => return ApiError::InvalidToken.into_response(),
        Err(AuthFailure::Unavailable(error)) => return ApiError::from(error).into_response(),
    };
    if request.method() == Method::GET && is_page(path) {
        match page_redirect(&state, request.uri(), caller.as_ref()).await {
            Ok(Some(to)) => return Redirect::to(&to).into_response(),
            Ok(None) => {}
            Err(error) => return ApiError::from(error).into_response(),
        }
    }
    request.extensions_mut().insert(Caller(caller));
    next.run(request).await
}

fn is_page(path: &str) -> bool {
    !["/api/", "/rpc/", "/connect/", "/logout"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

/// Pages that need a signed-in user.
pub fn needs_sign_in(path: &str) -> bool {
    path.starts_with("/settings") || path.starts_with("/admin")
}

/// Where a page visit must go instead, if anywhere: to first-run setup while there is no user,
/// to sign-in for signed-in pages, away from setup and sign-in when they no longer apply.
async fn page_redirect(
    state: &AppState,
    uri: &axum::http::Uri,
    caller: Option<&Principal>,
) -> Result<Option<String>, crate::store::StoreError> {
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

/// Where people land after signing in when they were not going anywhere in particular.
pub const DEFAULT_LANDING: &str = "/settings/tokens";

/// A local path to return to after signing in; anything else (another site, `//host`) is
/// replaced by the default landing page.
pub fn safe_next(next: &str) -> String {
    let local = next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\");
    if local && !next.chars().any(char::is_control) {
        next.to_owned()
    } else {
        DEFAULT_LANDING.to_owned()
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
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let claimed = match (text(header::ORIGIN), text(header::REFERER)) {
        (Some(origin), _) => Some(origin.to_owned()),
        (None, Some(referer)) => Some(
            url::Url::parse(referer)
                .map(|url| url.origin().ascii_serialization())
                .unwrap_or_default(),
        ),
        (None, None) => None,
    };
    match claimed {
        Some(origin) if origin == state.config.origin() => Ok(()),
        Some(_) => Err(ApiError::CrossSite),
        None if sessions::id_from(headers).is_some() => Err(ApiError::CrossSite),
        None => Ok(()),
    }
}

/// `POST /logout`: ends the session and returns to the sign-in page.
async fn logout(
    State(state): State<AppState>,
    Extension(Caller(caller)): Extension<Caller>,
) -> Response {
    if let Some(Principal {
        credential: Credential::Session { digest },
        ..
    }) = caller
    {
        if let Err(error) = state.store.delete_session(&digest).await {
            return ApiError::from(error).into_response();
        }
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        sessions::clearing_cookie(state.config.secure_cookies()),
    );
    response
}

/// `POST /connect/token` (SPEC §2): the OAuth 2.0 password grant, answering as RFC 6749 §5.
async fn connect_token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let form_encoded = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form_encoded {
            return Err(OAuthError::invalid_request(
                "Send the request as application/x-www-form-urlencoded.",
            ));
        }
        let mut fields = std::collections::HashMap::new();
        for (name, value) in url::form_urlencoded::parse(&body) {
            if fields.insert(name.clone(), value).is_some() {
                return Err(OAuthError::invalid_request(&format!(
                    "`{name}` is given more than once."
                )));
            }
        }
        let field = |name: &str| fields.get(name).map(|v| v.as_ref());
        match field("grant_type") {
            Some("password") => {}
            Some(_) => {
                return Err(OAuthError::new(
                    "unsupported_grant_type",
                    "Only the password grant is supported.",
                ))
            }
            None => return Err(OAuthError::invalid_request("`grant_type` is required.")),
        }
        let (Some(username), Some(password)) = (field("username"), field("password")) else {
            return Err(OAuthError::invalid_request(
                "`username` and `password` are required.",
            ));
        };
        let token = service::issue_access_token(&state, username, password, &peer.ip().to_string())
            .await
            .map_err(OAuthError::from)?;
        Ok(Json(serde_json::json!({
            "access_token": token.expose(),
            "token_type": "Bearer",
            "expires_in": service::access_token_lifetime().num_seconds(),
        }))
        .into_response())
    }
    .await;
    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    // Token responses must never be cached (RFC 6749 §5.1).
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// An RFC 6749 §5.2 error, or a refusal the password grant shares with sign-in.
struct OAuthError {
    status: StatusCode,
    code: &'static str,
    description: String,
    retry_after_secs: Option<u64>,
}

impl OAuthError {
    fn new(code: &'static str, description: &str) -> OAuthError {
        OAuthError {
            status: StatusCode::BAD_REQUEST,
            code,
            description: description.to_owned(),
            retry_after_secs: None,
        }
    }

    fn invalid_request(description: &str) -> OAuthError {
        OAuthError::new("invalid_request", description)
    }
}

impl From<AccountError> for OAuthError {
    fn from(error: AccountError) -> OAuthError {
        match error {
            AccountError::RateLimited { retry_after_secs } => OAuthError {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "rate_limited",
                description: error.to_string(),
                retry_after_secs: Some(retry_after_secs),
            },
            AccountError::Store(store) => {
                tracing::error!(error = %store, "store failure");
                OAuthError {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    code: "unavailable",
                    description: store.outage().message().to_owned(),
                    retry_after_secs: None,
                }
            }
            _ => OAuthError::new("invalid_grant", "The username or password is incorrect."),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.code, "error_description": self.description });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
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
    }

    #[test]
    fn pages_are_everything_but_the_machine_routes() {
        assert!(is_page("/"));
        assert!(is_page("/settings/tokens"));
        assert!(!is_page("/api/v1/me"));
        assert!(!is_page("/rpc/login"));
        assert!(!is_page("/connect/token"));
        assert!(needs_sign_in("/settings/tokens"));
        assert!(needs_sign_in("/admin/users"));
        assert!(!needs_sign_in("/login"));
    }
}
