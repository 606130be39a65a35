//! The rules, with no HTTP and no database in them: what a valid username, token name,
//! lifetime, allowlist or policy is, the secrets' format, and the kinds of events, audit
//! entries and notices. Everything above — store, services, pages, REST — decides by these.

pub mod accounts;
#[cfg(feature = "ssr")]
pub mod allowlist;
pub mod audit;
pub mod events;
#[cfg(feature = "ssr")]
pub mod notices;
pub mod policy;
#[cfg(feature = "ssr")]
pub mod secret;
pub mod tokens;
