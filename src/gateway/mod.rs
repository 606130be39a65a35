//! Patio in front of any HTTP service (SPEC §12): the forward-auth endpoint that nginx, Caddy,
//! Traefik and Envoy ask before they pass a request on. The configurations the tests run are in
//! `deploy/`.

mod verify;

use crate::server::AppState;
use axum::routing::any;
use axum::Router;

pub const VERIFY_PATH: &str = "/auth/verify";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(VERIFY_PATH, any(verify::verify))
        // Envoy's ext_authz puts the original path after its `path_prefix`.
        .route("/auth/verify/{*original}", any(verify::verify))
}

/// Whether `path` is answered by the verify endpoint.
pub fn is_verify_path(path: &str) -> bool {
    path.strip_prefix(VERIFY_PATH)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}
