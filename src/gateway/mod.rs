//! Patio in front of any HTTP service (SPEC §12): the forward-auth endpoint that nginx, Caddy,
//! Traefik and Envoy ask before they pass a request on, and token introspection for resource
//! servers. The configurations the tests run are in `deploy/`.

#[cfg(feature = "ssr")]
pub mod clients;
#[cfg(feature = "ssr")]
mod introspect;
pub mod page;
#[cfg(feature = "ssr")]
mod verify;

#[cfg(feature = "ssr")]
use crate::server::AppState;
#[cfg(feature = "ssr")]
use axum::routing::{any, post};
#[cfg(feature = "ssr")]
use axum::Router;

pub const VERIFY_PATH: &str = "/auth/verify";

#[cfg(feature = "ssr")]
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(VERIFY_PATH, any(verify::verify))
        // Envoy's ext_authz puts the original path after its `path_prefix` (`/` becomes
        // `/auth/verify/`).
        .route("/auth/verify/", any(verify::verify))
        .route("/auth/verify/{*original}", any(verify::verify))
        .route("/oauth/introspect", post(introspect::introspect))
        .route(page::CLIENTS_PATH, post(page::register_client_page))
}

/// Whether `path` is answered by the verify endpoint.
pub fn is_verify_path(path: &str) -> bool {
    path.strip_prefix(VERIFY_PATH)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}
