//! Patio in front of any HTTP service (SPEC §12): the resource servers allowed to introspect
//! tokens, and the paths the forward-auth endpoint answers (`api::verify`, asked by nginx,
//! Caddy, Traefik and Envoy before they pass a request on). The configurations the tests run
//! are in `deploy/`.

#[cfg(feature = "ssr")]
pub mod clients;

pub const VERIFY_PATH: &str = "/auth/verify";

/// Whether `path` is answered by the verify endpoint.
pub fn is_verify_path(path: &str) -> bool {
    path.strip_prefix(VERIFY_PATH)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}
