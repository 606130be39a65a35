//! Every page, and the parts they share: the header's user menu and the settings tabs. Each
//! page file holds its server functions beside its components; a server function asks the
//! request context (`web::context`) who calls and answers in `AppError`.

pub mod admin;
pub mod clients;
pub mod components;
#[cfg(feature = "ssr")]
pub mod form_answer;
#[cfg(feature = "ssr")]
pub mod notification_forms;
pub mod notifications;
pub mod profile;
pub mod security;
pub mod sign_in;
pub mod tokens;
pub mod users;

pub use notifications::NotificationsPage;
pub use profile::{ProfilePage, SignedOutNotice};
pub use security::SecurityPage;
pub use sign_in::{LoginPage, SetupPage};
pub use users::AdminUsersPage;

pub use crate::domain::accounts::Me;
use crate::web::page_error::AppError;
use leptos::prelude::*;

/// Who is signed in, if anyone.
#[server(prefix = "/rpc", endpoint = "who_am_i")]
pub async fn who_am_i() -> Result<Option<Me>, AppError> {
    Ok(crate::web::context::caller()
        .ok()
        .map(|principal| principal.me()))
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
