//! Personal access tokens (SPEC §3–4): the rules, the secrets, the lifecycle, and the Tokens
//! page.

#[cfg(feature = "ssr")]
pub mod allowlist;
pub mod page;
pub mod policy;
pub mod rules;
#[cfg(feature = "ssr")]
pub mod secret;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod usage;
