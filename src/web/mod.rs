//! What every page and handler shares about a request: where it came from and the guard that
//! decides who is calling.

pub mod client_address;
pub mod form_errors;
pub mod guard;

pub use client_address::ClientAddress;
pub use guard::{Caller, DEFAULT_LANDING};
