//! `/auth/verify` (SPEC §12): answers a proxy's sub-request about the original request. 200 with
//! every `X-Patio-*` header (so a proxy copying them overwrites whatever a client sent), 401 with
//! both a Bearer and a Basic challenge, 403 for a read-only token's write or an address outside
//! the token's allowlist, 503 when the database cannot answer; never a redirect.

use crate::accounts::sessions;
use crate::domain::events::Origin;
use crate::gateway::VERIFY_PATH;
use crate::web::guard::claimed_origin;
use crate::web::principal::{self, AuthFailure, Principal};
use crate::web::state::AppState;
use crate::web::ClientAddress;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;

/// What the proxy should do with the original request.
enum Verdict {
    Allow(Box<Principal>),
    /// No usable credential: ask for one.
    Unauthenticated,
    /// A valid credential that may not make this request.
    Forbidden(String),
    Unavailable(String),
}

pub async fn verify(
    State(state): State<AppState>,
    client: ClientAddress,
    origin: Origin,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let Some(original_method) = original_method(&headers, &method) else {
        tracing::info!(%client, "forward auth refused: the original method was given twice");
        return answer(Verdict::Forbidden(
            "The original request's method was given more than once, so it is unclear what \
             the request does."
                .to_owned(),
        ));
    };
    let verdict = decide(&state, &headers, &original_method, &origin).await;
    if !matches!(verdict, Verdict::Allow(_)) {
        tracing::info!(
            method = %crate::web::for_log(&original_method),
            uri = %crate::web::for_log(&original_uri(&headers, &uri)),
            %client,
            "forward auth refused"
        );
    }
    answer(verdict)
}

async fn decide(state: &AppState, headers: &HeaderMap, method: &str, origin: &Origin) -> Verdict {
    let presented = presented_token(headers);
    let basic = matches!(presented, Presented::Token(_, Scheme::Basic));
    let found = match presented {
        Presented::Token(token, _) => principal::with_token(state, &token).await.map(Some),
        Presented::Malformed => Err(AuthFailure::InvalidToken),
        Presented::Nothing => match sessions::id_from(headers) {
            Some(id) => principal::session(state, id).await,
            None => Ok(None),
        },
    };
    let principal = match found {
        Ok(Some(principal)) => principal,
        Ok(None) | Err(AuthFailure::InvalidToken) => return Verdict::Unauthenticated,
        Err(AuthFailure::Unavailable(error)) => {
            tracing::error!(%error, "store failure");
            return Verdict::Unavailable(error.outage().message().to_owned());
        }
    };
    let session = matches!(principal.credential, principal::Credential::Session { .. });
    // A session cookie, and Basic credentials a browser has cached, ride along on cross-site
    // requests; only the site's own pages may use them to change things (SPEC §1 CSRF, applied
    // to the services behind Patio). git, curl and scripts send no `Origin` with Basic.
    let cross_site = if session {
        !same_site(state, headers)
    } else {
        basic && claimed_origin(headers).is_some() && !same_site(state, headers)
    };
    if cross_site && !is_safe(method) {
        return Verdict::Forbidden(
            "Cross-site request refused: a browser's credentials can only change things from \
             the site's own pages."
                .to_owned(),
        );
    }
    if let Err(refused) = principal.check_use(state, method, origin).await {
        tracing::info!(token_id = principal.credential.token_id(), %refused, "token refused");
        return Verdict::Forbidden(refused.to_string());
    }
    Verdict::Allow(Box::new(principal))
}

fn is_safe(method: &str) -> bool {
    ["GET", "HEAD", "OPTIONS"]
        .iter()
        .any(|safe| method.eq_ignore_ascii_case(safe))
}

/// Whether the original request's `Origin` (or `Referer`) is the site the proxy serves, or Patio.
fn same_site(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(claimed) = claimed_origin(headers) else {
        return false;
    };
    let forwarded = first(headers, "x-forwarded-host").map(|host| {
        let scheme = first(headers, "x-forwarded-proto").unwrap_or("http");
        format!("{scheme}://{host}")
    });
    claimed == state.config.origin() || forwarded.is_some_and(|origin| origin == claimed)
}

enum Presented {
    Token(String, Scheme),
    Malformed,
    Nothing,
}

#[derive(PartialEq)]
enum Scheme {
    Bearer,
    Basic,
}

/// The token in `Authorization`: `Bearer <token>`, or `Basic` with the token as the password
/// (any username) or as the username with an empty password (git, curl `-u`, Excel).
fn presented_token(headers: &HeaderMap) -> Presented {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Presented::Nothing;
    };
    if values.next().is_some() {
        return Presented::Malformed;
    }
    let Some((scheme, rest)) = value.to_str().ok().and_then(|v| v.trim().split_once(' ')) else {
        return Presented::Malformed;
    };
    let rest = rest.trim();
    let token = if scheme.eq_ignore_ascii_case("bearer") {
        Some((rest.to_owned(), Scheme::Bearer))
    } else if scheme.eq_ignore_ascii_case("basic") {
        basic_token(rest).map(|token| (token, Scheme::Basic))
    } else {
        None
    };
    match token {
        Some((token, scheme)) if !token.is_empty() => Presented::Token(token, scheme),
        _ => Presented::Malformed,
    }
}

fn basic_token(encoded: &str) -> Option<String> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some(if password.is_empty() { user } else { password }.to_owned())
}

/// The original request's method: Traefik and Caddy send `X-Forwarded-Method`, nginx
/// configurations `X-Original-Method`; Envoy sends the sub-request with the original method.
/// Whatever a client adds cannot turn a write into a read: among the claimed methods and the
/// sub-request's own, a write wins. A header given twice is ambiguous: `None`, refused.
fn original_method(headers: &HeaderMap, method: &Method) -> Option<String> {
    let mut claimed: Vec<&str> = Vec::new();
    for name in ["x-forwarded-method", "x-original-method"] {
        let mut values = headers.get_all(name).iter();
        if let Some(value) = values.next() {
            if values.next().is_some() {
                return None;
            }
            let value = value.to_str().ok()?.trim();
            if !value.is_empty() {
                claimed.push(value);
            }
        }
    }
    let own = method.as_str();
    let chosen = claimed
        .iter()
        .copied()
        .chain(std::iter::once(own))
        .find(|m| !is_safe(m))
        .or(claimed.first().copied())
        .unwrap_or(own);
    Some(chosen.to_ascii_uppercase())
}

/// The original request's path, for the log: `X-Forwarded-Uri`, `X-Original-URI`, or the path
/// after `/auth/verify` (Envoy). Without its query string, which may hold anything.
fn original_uri(headers: &HeaderMap, uri: &Uri) -> String {
    let full = first(headers, "x-forwarded-uri")
        .or_else(|| first(headers, "x-original-uri"))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let rest = uri.path().trim_start_matches(VERIFY_PATH);
            if rest.is_empty() { "/" } else { rest }.to_owned()
        });
    full.split('?').next().unwrap_or_default().to_owned()
}

fn first<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

const USER: HeaderName = HeaderName::from_static("x-patio-user");
const USER_ID: HeaderName = HeaderName::from_static("x-patio-user-id");
const ROLE: HeaderName = HeaderName::from_static("x-patio-role");
const ACCESS: HeaderName = HeaderName::from_static("x-patio-access");
const TOKEN_ID: HeaderName = HeaderName::from_static("x-patio-token-id");

fn answer(verdict: Verdict) -> Response {
    let mut response = match verdict {
        Verdict::Allow(principal) => {
            let mut response = StatusCode::OK.into_response();
            let headers = response.headers_mut();
            let value =
                |text: String| HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static(""));
            headers.insert(USER, value(principal.user.username.clone()));
            headers.insert(USER_ID, value(principal.user.id.to_string()));
            headers.insert(ROLE, HeaderValue::from_static(principal.user.role.as_str()));
            headers.insert(
                ACCESS,
                HeaderValue::from_static(principal.credential.access().as_str()),
            );
            let token_id = principal
                .credential
                .token_id()
                .map(|id| id.to_string())
                .unwrap_or_default();
            headers.insert(TOKEN_ID, value(token_id));
            response
        }
        Verdict::Unauthenticated => {
            let mut response = refusal(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "A valid token is required: send it as `Authorization: Bearer <token>`, or as \
                 the password of HTTP Basic authentication.",
            );
            let headers = response.headers_mut();
            headers.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"patio\""),
            );
            headers.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"patio\""),
            );
            response
        }
        Verdict::Forbidden(message) => refusal(StatusCode::FORBIDDEN, "forbidden", &message),
        Verdict::Unavailable(message) => {
            refusal(StatusCode::SERVICE_UNAVAILABLE, "unavailable", &message)
        }
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": code, "message": message });
    (status, axum::Json(body)).into_response()
}

/// The forward-auth endpoint, at every path the proxies ask it on.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::any;
    axum::Router::new()
        .route(VERIFY_PATH, any(verify))
        // Envoy's ext_authz puts the original path after its `path_prefix` (`/` becomes
        // `/auth/verify/`).
        .route("/auth/verify/", any(verify))
        .route("/auth/verify/{*original}", any(verify))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_authorization(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::AUTHORIZATION, value.parse().unwrap());
        }
        headers
    }

    fn token(headers: &HeaderMap) -> Option<String> {
        match presented_token(headers) {
            Presented::Token(token, _) => Some(token),
            _ => None,
        }
    }

    #[test]
    fn tokens_come_as_bearer_or_either_half_of_basic() {
        let basic = |pair: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        };
        assert_eq!(
            token(&with_authorization(&["Bearer abc"])),
            Some("abc".into())
        );
        assert_eq!(
            token(&with_authorization(&[&basic("git:abc")])),
            Some("abc".into())
        );
        assert_eq!(
            token(&with_authorization(&[&basic("abc:")])),
            Some("abc".into())
        );
        assert_eq!(
            token(&with_authorization(&[&basic(":abc")])),
            Some("abc".into())
        );
        assert_eq!(token(&with_authorization(&[&basic("abc")])), None);
        assert_eq!(token(&with_authorization(&["Basic !!!"])), None);
        assert_eq!(token(&with_authorization(&["Bearer a", "Bearer b"])), None);
        assert_eq!(token(&with_authorization(&["Digest abc"])), None);
        assert!(matches!(
            presented_token(&HeaderMap::new()),
            Presented::Nothing
        ));
    }

    #[test]
    fn the_original_request_is_read_from_any_proxy_convention() {
        let mut headers = HeaderMap::new();
        let uri: Uri = "/auth/verify/repo.git/info/refs?service=x".parse().unwrap();
        let method = |headers: &HeaderMap, own: Method| original_method(headers, &own).unwrap();
        assert_eq!(method(&headers, Method::PUT), "PUT");
        assert_eq!(original_uri(&headers, &uri), "/repo.git/info/refs");
        headers.insert("x-original-method", "post".parse().unwrap());
        headers.insert("x-original-uri", "/a?b".parse().unwrap());
        assert_eq!(method(&headers, Method::GET), "POST");
        assert_eq!(original_uri(&headers, &uri), "/a");
        headers.insert("x-forwarded-method", "DELETE".parse().unwrap());
        assert_eq!(method(&headers, Method::GET), "DELETE");
        // A client's "GET" beside the proxy's "POST": the write counts.
        headers.insert("x-forwarded-method", "GET".parse().unwrap());
        assert_eq!(method(&headers, Method::GET), "POST");
        let bare: Uri = "/auth/verify".parse().unwrap();
        assert_eq!(original_uri(&HeaderMap::new(), &bare), "/");
    }

    #[test]
    fn a_header_cannot_make_a_written_sub_request_a_read() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-method", "GET".parse().unwrap());
        assert_eq!(original_method(&headers, &Method::POST).unwrap(), "POST");
        assert_eq!(original_method(&headers, &Method::GET).unwrap(), "GET");
        headers.append("x-forwarded-method", "POST".parse().unwrap());
        assert_eq!(original_method(&headers, &Method::GET), None);
        let mut twice = HeaderMap::new();
        twice.append("x-original-method", "GET".parse().unwrap());
        twice.append("x-original-method", "GET".parse().unwrap());
        assert_eq!(original_method(&twice, &Method::GET), None);
        let bare: Uri = "/auth/verify".parse().unwrap();
        assert_eq!(original_uri(&HeaderMap::new(), &bare), "/");
    }
}
