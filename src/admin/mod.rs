//! What administrators and the secret scanners working for them do with every token of the
//! instance: leaked-token intake (SPEC §13).

pub mod leaks;
