//! The rules shared by everything above, with no HTTP and no database in them: what a valid
//! username or display name is, and the kinds of events, audit entries and notices. The token
//! rules are `tokens`'; everything above — store, services, pages, REST — decides by these.

pub mod accounts;
pub mod audit;
pub mod events;
#[cfg(feature = "ssr")]
pub mod limiter;
#[cfg(feature = "ssr")]
pub mod notices;
pub mod problem;
