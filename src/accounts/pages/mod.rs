//! The account pages — first-run setup, sign-in, profile, user administration — and the
//! header's user menu. Each page file holds its server functions beside its components.

mod admin;
mod profile;
mod sign_in;

pub use admin::AdminUsersPage;
pub use profile::{ProfilePage, SignedOutNotice};
pub use sign_in::{LoginPage, SetupPage};

use crate::accounts::rules::Role;
use crate::errors::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in user, as pages need to know them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

impl Me {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Who is signed in, if anyone.
#[server(prefix = "/rpc", endpoint = "who_am_i")]
pub async fn who_am_i() -> Result<Option<Me>, AppError> {
    Ok(on_server::caller()
        .ok()
        .map(|principal| on_server::me(&principal)))
}

/// The signed-in user for the whole page, loaded once per page load.
pub type MeResource = Resource<Result<Option<Me>, AppError>>;

pub fn provide_me() {
    let me: MeResource = Resource::new(|| (), |_| who_am_i());
    provide_context(me);
}

/// The header's user menu: a disclosure, rendered on the server, that needs no WebAssembly.
#[component]
pub fn UserMenu() -> impl IntoView {
    let me = expect_context::<MeResource>();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) => {
                        let admin = me.is_admin();
                        view! {
                            <details class="user-menu">
                                <summary>
                                    <span class="avatar" aria-hidden="true">
                                        {me.display_name.chars().next().unwrap_or('?').to_uppercase().to_string()}
                                    </span>
                                    <span class="user-name">{me.display_name.clone()}</span>
                                </summary>
                                <nav class="menu" aria-label="User menu">
                                    <p class="menu-heading">"User Settings"</p>
                                    <a href="/settings/profile">"Profile"</a>
                                    <a href="/settings/tokens">"Tokens"</a>
                                    <a href="/settings/security">"Security"</a>
                                    <a href="/settings/notifications">"Notifications"</a>
                                    {admin.then(|| view! {
                                        <p class="menu-heading">"Admin"</p>
                                        <a href="/admin/overview">"Overview"</a>
                                        <a href="/admin/users">"Users"</a>
                                        <a href="/admin/tokens">"All tokens"</a>
                                        <a href="/admin/policy">"Policy"</a>
                                        <a href="/admin/audit">"Audit log"</a>
                                        <a href="/admin/clients">"Clients"</a>
                                    })}
                                    <form method="post" action="/logout">
                                        <button type="submit" class="menu-item">"Sign out"</button>
                                    </form>
                                </nav>
                            </details>
                        }
                            .into_any()
                    }
                    _ => view! { <a class="button small secondary" href="/login">"Sign in"</a> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Tabs of User Settings.
#[component]
pub fn SettingsTabs(current: &'static str) -> impl IntoView {
    let tab = move |href: &'static str, label: &'static str| {
        view! {
            <a href=href aria-current=(current == label).then_some("page")>{label}</a>
        }
    };
    view! {
        <p class="eyebrow">"User Settings"</p>
        <nav class="tabs" aria-label="User Settings">
            {tab("/settings/profile", "Profile")}
            {tab("/settings/tokens", "Tokens")}
            {tab("/settings/security", "Security")}
            {tab("/settings/notifications", "Notifications")}
        </nav>
    }
}

/// Server-side helpers for server functions and server rendering.
#[cfg(feature = "ssr")]
pub mod on_server {
    use super::Me;
    use crate::accounts::principal::Principal;
    use crate::accounts::rules::Role;
    use crate::errors::AppError;
    use crate::server::AppState;
    use crate::web::Caller;
    use leptos::prelude::*;

    pub fn state() -> AppState {
        expect_context::<AppState>()
    }

    fn parts() -> Option<http::request::Parts> {
        use_context::<http::request::Parts>()
    }

    /// The caller the guard resolved for this request.
    pub fn caller() -> Result<Principal, AppError> {
        parts()
            .and_then(|parts| parts.extensions.get::<Caller>().cloned())
            .and_then(|Caller(caller)| caller)
            .ok_or(AppError::SignedOut)
    }

    pub fn admin() -> Result<Principal, AppError> {
        let caller = caller()?;
        if caller.user.role == Role::Admin {
            Ok(caller)
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn me(principal: &Principal) -> Me {
        Me {
            id: principal.user.id,
            username: principal.user.username.clone(),
            display_name: principal.user.display_name.clone(),
            role: principal.user.role,
        }
    }

    /// Who is acting and from where, for the security log.
    pub fn origin() -> crate::events::rules::Origin {
        parts()
            .map(|parts| crate::web::origin_of(&parts))
            .unwrap_or_default()
    }

    /// Where users reach Patio (`PATIO_PUBLIC_URL`), without a trailing slash. Never taken from
    /// the request, so no crafted `Host` header puts another address on a page.
    pub fn public_url() -> String {
        state()
            .config
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_owned()
    }

    /// Whether this request is a plain HTML form post (no WebAssembly), which expects a redirect.
    pub fn is_plain_form_post() -> bool {
        parts().is_some_and(|parts| {
            parts
                .headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        })
    }

    /// Sends a plain form post back to the page at `to` (which says what happened) instead of
    /// Leptos's default, the page it came from.
    pub fn back_to_form(to: &str) {
        if is_plain_form_post() {
            leptos_axum::redirect(to);
        }
    }

    /// Sets a header of the answer being rendered.
    pub fn set_header(name: http::HeaderName, value: http::HeaderValue) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.insert_header(name, value);
        }
    }

    /// Sets the status of the page being rendered.
    pub fn set_status(status: http::StatusCode) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
    }

    /// Signs `user_id` in: ends the session the browser had (a new id on every sign-in),
    /// starts a new one in the response's cookie, and sends the browser on to `next` (a plain
    /// form post by a redirect; the hydrated page through its redirect hook). Returns `next`.
    pub async fn start_session(user_id: i64, next: String) -> Result<String, AppError> {
        let state = state();
        if let Some(old) = parts()
            .as_ref()
            .and_then(|p| crate::accounts::sessions::id_from(&p.headers))
        {
            state
                .store
                .sign_out(
                    &crate::tokens::secret::digest(old),
                    state.clock.now(),
                    &origin(),
                )
                .await?;
        }
        let cookie = crate::accounts::sessions::start(&state, user_id, &origin()).await?;
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.append_header(http::header::SET_COOKIE, cookie);
        }
        leptos_axum::redirect(&next);
        Ok(next)
    }
}
