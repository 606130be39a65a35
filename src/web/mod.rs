//! What every page and handler shares about a request: the guard that decides who is calling,
//! where the request came from, a page's request context, and the two boundary errors that
//! put each domain error into words — `AppError` for pages, `ApiError` for REST.

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
