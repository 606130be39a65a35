//! Personal access tokens (SPEC §3–4, §10, §14), top to bottom: the rules a token follows
//! (`rules`: name, description, lifetime, access, status; `allowlist`; the instance's `policy`),
//! the secret's format (`secret`), what their storage must do (`storage`, answered by
//! `store`), their lifecycle (`service`: generate, list, edit, regenerate, revoke, delete),
//! authenticating with one (`authenticate`) and counting their use (`usage`). There is no
//! HTTP and no SQL here; a storage failure comes back as `db::StoreError`.

#[cfg(feature = "ssr")]
pub mod allowlist;
#[cfg(feature = "ssr")]
pub mod authenticate;
pub mod policy;
pub mod rules;
#[cfg(feature = "ssr")]
pub mod secret;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod storage;
#[cfg(feature = "ssr")]
pub mod usage;
