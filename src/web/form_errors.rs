//! Plain HTML form posts (before the page's WebAssembly has loaded, or without it): how a failed
//! post's error gets back to its form. Leptos sends the browser back to the form with the error
//! in the address (`?__path=…&__err=…`), and forms would read it from there, so a crafted link
//! could make a page — the sign-in page, say — show any words. Patio moves the error into a
//! cookie, which no link can set, hands it to the page once as a request extension, and sends
//! addresses carrying one to the same address without it.

use crate::accounts::sessions::cookie_value;
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Response, Uri};
use url::form_urlencoded;

const COOKIE: &str = "patio_posted_error";
const PATH: &str = "__path";
const ERROR: &str = "__err";

/// The error of the plain form post this browser just made: the server function's path and
/// Leptos's encoding of its error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostedError {
    pub path: String,
    pub error: String,
}

/// A server function's answer to a plain form post: Leptos's redirect back to the form, with the
/// error in the address, becomes a redirect to the same page with the error in a cookie. Only an
/// error of the function at `path` itself is carried: any other (say, one in a `next` address
/// that a link supplied) is dropped from the address and never shown.
pub fn error_into_cookie(mut response: Response<Body>, path: &str, secure: bool) -> Response<Body> {
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
    let own = parse(&error).is_some_and(|posted| posted.path == path);
    if own {
        headers.append(header::SET_COOKIE, cookie(&error, 60, secure));
    }
    response
}

/// The path and error of an encoded `__path=…&__err=…` pair.
fn parse(encoded: &str) -> Option<PostedError> {
    let pairs: Vec<_> = form_urlencoded::parse(encoded.as_bytes()).collect();
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, v)| v.to_string())
    };
    value(PATH)
        .zip(value(ERROR))
        .map(|(path, error)| PostedError { path, error })
}

/// Where a page visit whose address carries a form error goes instead: the same address without
/// it. Patio never sends one there, so it came from a link.
pub fn without_error(uri: &Uri) -> Option<String> {
    split_error(&uri.to_string()).map(|(clean, _)| clean)
}

/// The posted error the browser carries, if it carries one (and `Some(None)` for a cookie that
/// holds no valid error, which is cleared all the same).
pub fn from_cookie(headers: &HeaderMap) -> Option<Option<PostedError>> {
    let encoded = cookie_value(headers, COOKIE)?;
    let pairs: Vec<_> = form_urlencoded::parse(encoded.as_bytes()).collect();
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, v)| v.to_string())
    };
    Some(
        value(PATH)
            .zip(value(ERROR))
            .map(|(path, error)| PostedError { path, error }),
    )
}

/// The `Set-Cookie` value that removes the posted error once a page has shown it.
pub fn clearing_cookie(secure: bool) -> HeaderValue {
    cookie("", 0, secure)
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
    // The encoded pair (`__path=…&__err=…`) holds only characters a cookie value may hold.
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("patio_posted_error=; Path=/; Max-Age=0"))
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

    #[test]
    fn the_cookie_carries_the_error_back() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=b; patio_posted_error=__path=%2Frpc%2Flogin&__err=e30%3D"
                .parse()
                .unwrap(),
        );
        let posted = from_cookie(&headers).unwrap().unwrap();
        assert_eq!(
            (posted.path.as_str(), posted.error.as_str()),
            ("/rpc/login", "e30=")
        );
        headers.insert(header::COOKIE, "patio_posted_error=junk".parse().unwrap());
        assert_eq!(from_cookie(&headers), Some(None));
        assert_eq!(from_cookie(&HeaderMap::new()), None);
    }
}
