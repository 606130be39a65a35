//! User Settings › Profile: display name, and a password change that needs the current
//! password and signs out the user's other sessions.

use super::{MeResource, SettingsTabs};
use crate::pages::components::{field_error, posted_error, FormAlert, TextField};
use crate::web::page_error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[server(prefix = "/rpc", endpoint = "update_profile")]
pub async fn update_profile(display_name: String) -> Result<String, AppError> {
    use crate::web::context;
    let caller = context::caller()?;
    context::state()
        .accounts()
        .change_display_name(caller.user.id, &display_name)
        .await?;
    context::back_to_form(&format!("/settings/profile?saved={SAVED_NAME}"));
    Ok(display_name.trim().to_owned())
}

#[server(prefix = "/rpc", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use crate::web::principal::Credential;

    use crate::web::context;
    let caller = context::caller()?;
    let keep = match &caller.credential {
        Credential::Session { digest } => Some(digest.as_str()),
        _ => None,
    };
    context::state()
        .accounts()
        .change_password(
            caller.user.id,
            &current_password,
            &new_password,
            keep,
            &context::origin(),
        )
        .await?;
    context::back_to_form(&format!("/settings/profile?saved={SAVED_PASSWORD}"));
    Ok(())
}

const SAVED_NAME: &str = "name";
const SAVED_PASSWORD: &str = "password";

#[component]
pub fn ProfilePage() -> impl IntoView {
    let me = expect_context::<MeResource>();
    view! {
        <Title text="Profile" />
        <SettingsTabs current="Profile" />
        <h1>"Profile"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) => view! {
                        <ProfileForms username=me.username display_name=me.display_name />
                    }.into_any(),
                    _ => view! { <SignedOutNotice /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Plain HTML forms, rendered on the server: each posts to its server function, which sends the
/// browser back here with what happened (`saved`, or Leptos's `__err`). They need no WebAssembly,
/// and the header shows a new name at once.
#[component]
fn ProfileForms(username: String, display_name: String) -> impl IntoView {
    let rename_error = Signal::stored(posted_error(UpdateProfile::PATH));
    let password_error = Signal::stored(posted_error(ChangePassword::PATH));
    let saved = use_query_map().with_untracked(|q| q.get("saved"));
    // A failed post keeps the address it came from, which may still say `saved`.
    let saved = move |what: &str| {
        saved.as_deref() == Some(what)
            && rename_error.with_untracked(Option::is_none)
            && password_error.with_untracked(Option::is_none)
    };
    view! {
        <div class="stack">
            <section class="card" aria-labelledby="name-heading">
                <h2 id="name-heading">"Display name"</h2>
                <p class="help">"Signed in as " <strong>{username}</strong> "."</p>
                <FormAlert error=rename_error />
                {saved(SAVED_NAME).then(|| view! {
                    <div class="alert success" role="status">"Display name saved."</div>
                })}
                <form method="post" action=UpdateProfile::url()>
                    <TextField label="Display name" name="display_name" autocomplete="name"
                        value=display_name required=true maxlength=100
                        error=field_error(rename_error, "display_name") />
                    <div class="form-actions">
                        <button type="submit" class="button">"Save"</button>
                    </div>
                </form>
            </section>
            <section class="card" aria-labelledby="password-heading">
                <h2 id="password-heading">"Change password"</h2>
                <FormAlert error=password_error />
                {saved(SAVED_PASSWORD).then(|| view! {
                    <div class="alert success" role="status">
                        "Password changed. Your other sessions were signed out."
                    </div>
                })}
                <form method="post" action=ChangePassword::url()>
                    <TextField label="Current password" name="current_password" kind="password"
                        autocomplete="current-password" required=true
                        error=field_error(password_error, "current_password") />
                    <TextField label="New password" name="new_password" kind="password"
                        autocomplete="new-password" required=true maxlength=256
                        help="At least 8 characters."
                        error=field_error(password_error, "new_password") />
                    <div class="form-actions">
                        <button type="submit" class="button">"Change password"</button>
                    </div>
                </form>
            </section>
        </div>
    }
}

/// Shown when the session ended while the page was open.
#[component]
pub fn SignedOutNotice() -> impl IntoView {
    view! {
        <div class="alert warning" role="alert">
            "Your session has ended. " <a href="/login">"Sign in again"</a> " to continue."
        </div>
    }
}
