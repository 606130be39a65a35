//! Admin's pages (SPEC §14): the token inventory, Overview, the policy and the audit log.

pub mod audit;
pub mod inventory;
pub mod overview;
pub mod policy;
