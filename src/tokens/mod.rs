//! Personal access tokens (SPEC §3–4, §10): their lifecycle (`service`: generate, list, edit,
//! regenerate, revoke, delete), authenticating with one (`authenticate`) and counting their use
//! (`usage`). The rules they follow are in `domain::tokens`, their table in `store::tokens`.

#[cfg(feature = "ssr")]
pub mod authenticate;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod usage;
