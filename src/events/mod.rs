//! The security log (SPEC §10): every event about a user's account and tokens, written in the
//! same transaction as the change it records, and read back newest first on
//! `/settings/security` and `GET /api/v1/me/events`.

#[cfg(feature = "ssr")]
pub mod service;
