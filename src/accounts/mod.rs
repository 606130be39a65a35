//! Accounts (SPEC §1–2): users, passwords, sessions, sign-in and the admin page.

#[cfg(feature = "ssr")]
pub mod passwords;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod sessions;
#[cfg(feature = "ssr")]
pub mod sweep;
