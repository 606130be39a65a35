//! Accounts (SPEC §1–2): the account use cases — first-run setup, sign-in with its race-free
//! limits, profile, administration (`service`) — passwords (`passwords`), sessions
//! (`sessions`) and the housekeeping sweep (`sweep`). Their pages are in `pages/`.

#[cfg(feature = "ssr")]
pub mod passwords;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod sessions;
#[cfg(feature = "ssr")]
pub mod sweep;
