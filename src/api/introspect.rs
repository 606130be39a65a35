//! `POST /oauth/introspect` (RFC 7662): a registered resource server asks whether a token is
//! active. Active: who it belongs to and what it may do. Anything else, for whatever reason:
//! exactly `{"active":false}`, so the answer says nothing about why.

use crate::accounts::service::access_token_lifetime;
use crate::domain::events::Origin;
use crate::gateway::clients::ClientRefused;
use crate::tokens::rules::Access;
use crate::web::principal::{self, Credential};
use crate::web::state::AppState;
use crate::web::ClientAddress;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Serialize;

/// The one answer for every token that is not active.
const INACTIVE: &str = r#"{"active":false}"#;

#[derive(Serialize)]
struct Active {
    active: bool,
    token_type: &'static str,
    username: String,
    sub: String,
    scope: &'static str,
    exp: i64,
    iat: i64,
    /// The addresses the token may be used from (SPEC §12 allowlist; empty: anywhere).
    /// Introspection cannot see the original client, so the resource server applies it.
    patio_allowed_ips: Vec<String>,
}

pub async fn introspect(
    State(state): State<AppState>,
    address: ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let field = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, v)| v.as_str())
    };
    let credentials = basic_credentials(&headers).or_else(|| {
        Some((
            field("client_id")?.to_owned(),
            field("client_secret")?.to_owned(),
        ))
    });
    let Some((client_id, client_secret)) = credentials else {
        return unauthenticated();
    };
    match state
        .clients()
        .authenticate(address.0, &client_id, &client_secret)
        .await
    {
        Ok(Ok(_)) => {}
        Ok(Err(ClientRefused::Unauthenticated)) => return unauthenticated(),
        Ok(Err(ClientRefused::RateLimited(seconds))) => {
            let mut response = oauth_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return response;
        }
        Err(error) => return unavailable(error),
    }
    let Some(token) = field("token") else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    };
    let body = match principal::with_token(&state, token).await {
        Ok(principal) => {
            // A resource server asks: the token's user is not the one calling, so no address.
            principal.record_use(&state, &Origin::default()).await;
            let (token_type, access, exp, iat, allowed_ips) = match &principal.credential {
                Credential::Pat {
                    access,
                    expires_at,
                    issued_at,
                    allowed_ips,
                    ..
                } => (
                    "pat",
                    *access,
                    *expires_at,
                    *issued_at,
                    allowed_ips.entries(),
                ),
                Credential::AccessToken { expires_at } => (
                    "access_token",
                    Access::ReadWrite,
                    *expires_at,
                    *expires_at - access_token_lifetime(),
                    Vec::new(),
                ),
                Credential::Session { .. } => return json(INACTIVE.to_owned()),
            };
            let active = Active {
                active: true,
                token_type,
                username: principal.user.username,
                sub: principal.user.id.to_string(),
                scope: match access {
                    Access::ReadWrite => "read write",
                    Access::Read => "read",
                },
                exp: exp.timestamp(),
                iat: iat.timestamp(),
                patio_allowed_ips: allowed_ips,
            };
            serde_json::to_string(&active).unwrap_or_else(|_| INACTIVE.to_owned())
        }
        Err(principal::AuthFailure::InvalidToken) => INACTIVE.to_owned(),
        Err(principal::AuthFailure::Unavailable(error)) => return unavailable(error),
    };
    json(body)
}

/// `Authorization: Basic base64(client_id:client_secret)` (RFC 6749 §2.3.1: both parts
/// form-urlencoded before encoding).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |part: &str| {
        url::form_urlencoded::parse(format!("x={part}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((decode(id)?, decode(secret)?))
}

fn json(body: String) -> Response {
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn oauth_error(status: StatusCode, code: &str) -> Response {
    let body = serde_json::json!({ "error": code });
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn unauthenticated() -> Response {
    let mut response = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"patio\""),
    );
    response
}

fn unavailable(error: crate::db::StoreError) -> Response {
    tracing::error!(%error, "store failure");
    oauth_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
}

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/oauth/introspect", axum::routing::post(introspect))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_client_credentials_are_form_decoded() {
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode("my%20client:s%3Acret");
        headers.insert(
            header::AUTHORIZATION,
            format!("Basic {encoded}").parse().unwrap(),
        );
        assert_eq!(
            basic_credentials(&headers),
            Some(("my client".into(), "s:cret".into()))
        );
        headers.insert(header::AUTHORIZATION, "Bearer x".parse().unwrap());
        assert_eq!(basic_credentials(&headers), None);
    }
}
