//! Patio: self-hosted personal access tokens.
//!
//! Imports flow one way: `server` (the composition root) → `app`, `pages`, `api` → `web` →
//! the domain services → `domain` (the rules) and `store` (README, "How the code is laid out").
//! Server-only code sits behind the `ssr` feature so none of it reaches the browser bundle.

// The tokens page's view type nests deeper than the default limit in builds without
// `erase_components` (plain `cargo test`).
#![recursion_limit = "256"]

pub mod accounts;
pub mod admin;
pub mod app;
pub mod domain;
pub mod events;
pub mod notify;
pub mod pages;
pub mod time;
pub mod tokens;
pub mod web;

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
pub mod gateway;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod store;

/// Browser entry point. Pages are rendered on the server; the islands (`#[island]`) on the page
/// are hydrated right after this returns.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // A server function that signs in redirects; a full page load then shows the whole page
    // (header included) with the new session.
    let _ = leptos::server_fn::redirect::set_redirect_hook(|path| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().assign(path);
        }
    });
    leptos::mount::hydrate_islands();
    // Lets browser tests wait for interactivity instead of guessing.
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
