//! The HTTP edge of accounts: `POST /logout` and the password grant `POST /connect/token`.

use crate::accounts::service::{self, AccountError};
use crate::accounts::sessions;
use crate::domain::events::Origin;
use crate::web::principal::{Credential, Principal};
use crate::web::state::AppState;
use crate::web::ApiError;
use crate::web::Caller;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/logout", post(logout))
        .route("/connect/token", post(connect_token))
}

/// `POST /logout`: ends the session and returns to the sign-in page.
async fn logout(
    State(state): State<AppState>,
    origin: Origin,
    Extension(Caller(caller)): Extension<Caller>,
) -> Response {
    if let Some(Principal {
        credential: Credential::Session { digest },
        ..
    }) = caller
    {
        let now = state.clock.now();
        if let Err(error) = state.store.sign_out(&digest, now, &origin).await {
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
/// Client credentials are accepted in the form or as HTTP Basic (RFC 6749 §2.3.1) and need not
/// be registered; the `Authorization` header is never read as a user's credential.
async fn connect_token(
    State(state): State<AppState>,
    origin: Origin,
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
        let token = state
            .accounts()
            .issue_access_token(username, password, &origin)
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
            AccountError::Busy(busy) => OAuthError {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "rate_limited",
                description: busy.to_string(),
                retry_after_secs: Some(1),
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
