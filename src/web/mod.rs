//! What every page and handler shares about a request: the guard that decides who is calling,
//! where the request came from, a page's request context, and the two boundary errors —
//! `AppError` for pages, `ApiError` for REST — that answer each domain error as it says.

#[cfg(feature = "ssr")]
pub mod api_error;
#[cfg(feature = "ssr")]
pub mod client_address;
#[cfg(feature = "ssr")]
pub mod context;
#[cfg(feature = "ssr")]
pub mod form_errors;
#[cfg(feature = "ssr")]
pub mod guard;
#[cfg(feature = "ssr")]
pub mod metrics;
#[cfg(feature = "ssr")]
mod origin;
pub mod page_error;
#[cfg(feature = "ssr")]
pub mod principal;
#[cfg(feature = "ssr")]
pub mod state;

#[cfg(feature = "ssr")]
pub use api_error::ApiError;
#[cfg(feature = "ssr")]
pub use client_address::ClientAddress;
#[cfg(feature = "ssr")]
pub use guard::{Caller, DEFAULT_LANDING};
#[cfg(feature = "ssr")]
pub use origin::origin_of;
pub use page_error::AppError;

/// A string the client controls (a path, a method, a forwarded header) as it may be logged: at
/// most `LOGGED_CHARS` characters, control characters replaced, so no request can make the logs
/// grow by more than a line or forge one.
#[cfg(feature = "ssr")]
pub fn for_log(text: &str) -> std::borrow::Cow<'_, str> {
    const LOGGED_CHARS: usize = 200;
    let clean = !text.chars().any(char::is_control);
    if clean && text.len() <= LOGGED_CHARS {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut kept: String = text
        .chars()
        .take(LOGGED_CHARS)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    if text.chars().nth(LOGGED_CHARS).is_some() {
        kept.push('…');
    }
    std::borrow::Cow::Owned(kept)
}

/// The HTTP status each kind of domain error is answered with, on pages and in the REST API
/// alike: the one place a refusal's status is chosen.
#[cfg(feature = "ssr")]
pub fn status(kind: crate::domain::problem::Kind) -> http::StatusCode {
    use crate::domain::problem::Kind;
    use http::StatusCode;
    match kind {
        Kind::Invalid => StatusCode::BAD_REQUEST,
        Kind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        Kind::Forbidden => StatusCode::FORBIDDEN,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::for_log;

    #[test]
    fn logged_strings_are_bounded_and_on_one_line() {
        assert_eq!(for_log("/settings/tokens"), "/settings/tokens");
        let huge = "a".repeat(200_000);
        assert_eq!(for_log(&huge).chars().count(), 201);
        assert_eq!(for_log("/a\nforged line"), "/a\u{fffd}forged line");
    }
}
