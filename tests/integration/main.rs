//! Integration tests, in one binary so the server is linked once: each module drives a real
//! Patio (in process on a random port, or as a child process) against SQLite and PostgreSQL.

#[macro_use]
mod common;

mod accounts;
mod admin_routes;
mod api;
mod backup;
mod events;
mod faults;
mod gateway;
mod hostile;
mod housekeeping;
mod http;
mod inventory;
mod leaks;
mod logs;
mod metrics;
mod notifications;
mod overview;
mod plain_forms;
mod policy;
mod processes;
mod properties;
mod regenerate;
mod security;
mod store;
mod timing;
mod token_use;
mod tokens;
