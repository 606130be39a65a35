//! Plain HTML form posts (before the page's WebAssembly has loaded, or without it): how a failed
//! post's error gets back to its form. Leptos sends the browser back to the form with the error
//! in the address (`?__path=…&__err=…`), and every form reads it from there, so a crafted link
//! could make a page — the sign-in page, say — show any words. Patio moves the error into a
//! cookie, which no link can set, reads it once, and sends addresses carrying one elsewhere.

use crate::accounts::sessions::cookie_value;
use axum::body::Body;
use axum::http::{header, HeaderValue, Response, Uri};
use leptos::prelude::*;
use leptos::server::ServerActionError;
use url::form_urlencoded;

const COOKIE: &str = "patio_posted_error";
const PATH: &str = "__path";
const ERROR: &str = "__err";

/// A server function's answer to a plain form post: Leptos's redirect back to the form, with the
/// error in the address, becomes a redirect to the same page with the error in a cookie.
pub fn error_into_cookie(mut response: Response<Body>, secure: bool) -> Response<Body> {
    let Some((clean, error)) = response
        .headers()
        .get(header::LOCATION)
        .and_then(|location| location.to_str().ok())
        .and_then(split_error)
    else {
        return response;
    };
    let headers = response.headers_mut();
    if let Ok(clean) = HeaderValue::from_str(&clean) {
        headers.insert(header::LOCATION, clean);
    }
    // The encoded pair (`__path=…&__err=…`) holds only characters a cookie value may hold.
    headers.append(header::SET_COOKIE, cookie(&error, 60, secure));
    response
}

/// Where a page visit whose address carries a form error goes instead: the same address without
/// it. Patio never sends one there, so it came from a link.
pub fn without_error(uri: &Uri) -> Option<String> {
    split_error(&uri.to_string()).map(|(clean, _)| clean)
}

/// While the server renders a page: gives the error of the plain form post this browser just
/// made to the forms on the page, as the context Leptos's server actions read
/// (`ServerActionError`), and removes it from the browser. Call before anything streams, so that
/// the response can still carry the removal.
pub fn provide_posted_error() {
    let Some(parts) = use_context::<http::request::Parts>() else {
        return;
    };
    let Some(encoded) = cookie_value(&parts.headers, COOKIE) else {
        return;
    };
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        let secure = use_context::<crate::server::AppState>()
            .is_some_and(|state| state.config.secure_cookies());
        response.append_header(header::SET_COOKIE, cookie("", 0, secure));
    }
    let pairs: Vec<_> = form_urlencoded::parse(encoded.as_bytes()).collect();
    let value = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, v)| v);
    if let (Some(path), Some(error)) = (value(PATH), value(ERROR)) {
        provide_context(ServerActionError::new(path, error));
    }
}

/// `location` without its form error, as a local address, and the error, encoded; `None` when
/// it carries none.
fn split_error(location: &str) -> Option<(String, String)> {
    let base = url::Url::parse("http://patio.invalid/").expect("a valid base");
    let mut url = base.join(location).ok()?;
    let (error, rest): (Vec<_>, Vec<_>) = url
        .query_pairs()
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .partition(|(key, _)| key == PATH || key == ERROR);
    if error.is_empty() {
        return None;
    }
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&error)
        .finish();
    if rest.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(&rest);
    }
    let clean = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    Some((clean, encoded))
}

fn cookie(value: &str, max_age: u32, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}"
    ))
    .expect("form-urlencoded text is a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_is_split_from_the_address() {
        let (clean, error) = split_error(
            "http://localhost:3000/login?next=%2Fadmin&__path=%2Frpc%2Flogin&__err=e30%3D",
        )
        .unwrap();
        assert_eq!(clean, "/login?next=%2Fadmin");
        assert_eq!(error, "__path=%2Frpc%2Flogin&__err=e30%3D");
        assert_eq!(
            split_error("/settings/profile?__err=x").unwrap().0,
            "/settings/profile"
        );
        assert_eq!(split_error("/settings/profile?saved=name"), None);
        assert_eq!(split_error("/"), None);
    }
}
