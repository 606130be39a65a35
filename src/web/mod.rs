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
