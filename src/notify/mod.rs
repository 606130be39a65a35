//! Notifications (SPEC §11): e-mail reminders and alerts, signed webhooks, and the calendar
//! feed of token expiries. Every mail and webhook goes through the outbox (`outbox`), written in
//! the transaction of what it tells and sent by a background worker, never from a request.

#[cfg(feature = "ssr")]
pub mod calendar;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod outbox;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod webhook;
