//! What administrators and the secret scanners working for them do with every token of the
//! instance: the inventory (SPEC §14) and leaked-token intake (§13).

#[cfg(feature = "ssr")]
pub mod inventory;
#[cfg(feature = "ssr")]
pub mod leaks;
pub mod page;
