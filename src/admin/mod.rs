//! What administrators and the secret scanners working for them do with every token of the
//! instance: the inventory, the policy and the audit log (SPEC §14), and leaked-token intake
//! (§13).

#[cfg(feature = "ssr")]
pub mod inventory;
#[cfg(feature = "ssr")]
pub mod leaks;
#[cfg(feature = "ssr")]
pub mod overview;
#[cfg(feature = "ssr")]
pub mod policy;
