//! The document shell, the router and the page layout shared by every page.

use crate::pages::tokens::TokensPage;
use crate::pages::{provide_me, AdminUsersPage, LoginPage, ProfilePage, SetupPage, UserMenu};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Meta, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options=options.clone() islands=true />
                <HashedStylesheet options id="leptos" />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_me();
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Patio".to_owned() } else { format!("{page} · Patio") }
        } />
        <Meta name="description" content="Personal access tokens for your platform." />
        <Router>
            <Header />
            <crate::pages::tokens::ExpiringBanner />
            <main id="main">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Home />
                    <Route path=path!("/setup") view=SetupPage />
                    <Route path=path!("/login") view=LoginPage />
                    <Route path=path!("/settings/profile") view=ProfilePage />
                    <Route path=path!("/settings/tokens") view=TokensPage />
                    <Route path=path!("/settings/tokens/:id/edit") view=crate::pages::tokens::EditTokenPage />
                    <Route path=path!("/settings/tokens/new") view=crate::pages::tokens::NewTokenPage />
                    <Route path=path!("/settings/tokens/:id/regenerate") view=crate::pages::tokens::RegenerateTokenPage />
                    <Route path=path!("/settings/tokens/:id/delete") view=crate::pages::tokens::DeleteTokenPage />
                    <Route path=path!("/settings/security") view=crate::pages::SecurityPage />
                    <Route path=path!("/settings/notifications") view=crate::pages::NotificationsPage />
                    <Route path=path!("/admin/users") view=AdminUsersPage />
                    <Route path=path!("/admin/clients") view=crate::pages::clients::AdminClientsPage />
                    <Route path=path!("/admin/tokens") view=crate::pages::admin::inventory::AdminTokensPage />
                    <Route path=path!("/admin/overview") view=crate::pages::admin::overview::AdminOverviewPage />
                    <Route path=path!("/admin/policy") view=crate::pages::admin::policy::AdminPolicyPage />
                    <Route path=path!("/admin/audit") view=crate::pages::admin::audit::AdminAuditPage />
                </Routes>
            </main>
        </Router>
    }
}

/// Every page's Content-Security-Policy: only Patio's own files, and inline scripts only with
/// this answer's nonce (Leptos puts it on the hydration scripts); WebAssembly may compile; no
/// framing, no `<base>`, forms post only to Patio.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    let nonce = leptos::nonce::use_nonce()
        .map(|nonce| format!(" 'nonce-{nonce}'"))
        .unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; \
         base-uri 'none'; form-action 'self'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        crate::web::context::set_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
fn Header() -> impl IntoView {
    view! {
        <header class="site-header">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">"▚"</span>
                "Patio"
            </A>
            <UserMenu />
        </header>
    }
}

#[component]
fn Home() -> impl IntoView {
    view! {
        <Title text="" />
        <section class="hero">
            <h1>"Personal access tokens, self-hosted."</h1>
            <p class="lead">
                "Generate a token in User Settings › Tokens, copy it once, and call the API as "
                "yourself — with exactly your own access. Tokens expire within a year, and you "
                "can hold up to five at a time."
            </p>
            <ExampleRequest />
        </section>
    }
}

/// A native disclosure, so it needs no WebAssembly. The example names Patio's public address.
#[component]
fn ExampleRequest() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let origin = crate::web::context::public_url();
    #[cfg(not(feature = "ssr"))]
    let origin = String::new();
    view! {
        <details class="example">
            <summary class="button secondary">
                <span class="when-closed">"Show an example request"</span>
                <span class="when-open">"Hide the example"</span>
            </summary>
            <pre id="example-request" class="code">
                <code>"curl -H \"Authorization: Bearer $PATIO_TOKEN\" \\\n     "{origin}"/api/v1/me"</code>
            </pre>
        </details>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <Title text="Page not found" />
        <section class="message-page">
            <p class="status-code">"404"</p>
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
            <p><a class="button" href="/">"Go to the home page"</a></p>
        </section>
    }
}
