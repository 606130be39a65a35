//! Personal access tokens (SPEC §3–4): the rules, the secrets, the lifecycle, and the Tokens
//! page.

#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod usage;
