//! `/setup` (first run: the first account, an administrator) and `/login`.

use crate::pages::components::{
    field_error, form_error, posted_error, FormAlert, ServerForm, TextField,
};
use crate::web::page_error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[server(prefix = "/rpc", endpoint = "setup")]
pub async fn set_up(
    username: String,
    display_name: String,
    password: String,
) -> Result<String, AppError> {
    use crate::accounts::service::AccountForm;
    use crate::domain::accounts::Role;
    use crate::web::context;
    let state = context::state();
    let form = AccountForm {
        username: &username,
        display_name: &display_name,
        password: &password,
        role: Role::Admin,
    };
    let admin = state.accounts().set_up(form).await?;
    state.mark_set_up();
    context::start_session(admin.id, crate::web::DEFAULT_LANDING.to_owned()).await
}

#[server(prefix = "/rpc", endpoint = "login")]
pub async fn log_in(username: String, password: String, next: String) -> Result<String, AppError> {
    use crate::web::context;
    let state = context::state();
    let user = state
        .accounts()
        .sign_in(&username, &password, &context::origin())
        .await?;
    context::start_session(user.id, crate::web::guard::safe_next(&next)).await
}

#[component]
pub fn SetupPage() -> impl IntoView {
    view! {
        <Title text="Set up Patio" />
        <SetupForm posted=posted_error(SetUp::PATH) />
    }
}

/// `posted`: the error of a plain form post, shown until the form is used again.
#[island]
fn SetupForm(posted: Option<AppError>) -> impl IntoView {
    let action = ServerAction::<SetUp>::new();
    let error = form_error(action, posted);
    view! {
        <section class="card narrow">
            <h1>"Welcome to Patio"</h1>
            <p class="lead">"Create the first account. It will be the administrator."</p>
            <FormAlert error />
            <ServerForm action read=|f| SetUp {
                username: f.text("username"),
                display_name: f.text("display_name"),
                password: f.text("password"),
            }>
                <TextField label="Username" name="username" autocomplete="username" required=true
                    help="3–64 letters, digits, dots, underscores or hyphens."
                    maxlength=64 error=field_error(error, "username") />
                <TextField label="Display name" name="display_name" autocomplete="name"
                    maxlength=100 error=field_error(error, "display_name") />
                <TextField label="Password" name="password" kind="password" autocomplete="new-password"
                    required=true help="At least 8 characters." maxlength=256
                    error=field_error(error, "password") />
                <div class="form-actions">
                    <button type="submit" class="button" disabled=move || action.pending().get()>
                        "Create administrator"
                    </button>
                </div>
            </ServerForm>
        </section>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let next = use_query_map().with_untracked(|q| q.get("next").unwrap_or_default());
    view! {
        <Title text="Sign in" />
        <LoginForm next posted=posted_error(LogIn::PATH) />
    }
}

/// `next`: where to go once signed in (checked again by the server); `posted`: the error of a
/// plain form post, shown until the form is used again.
#[island]
fn LoginForm(next: String, posted: Option<AppError>) -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    let error = form_error(action, posted);
    view! {
        <section class="card narrow">
            <h1>"Sign in to Patio"</h1>
            <FormAlert error />
            <ServerForm action read=|f| LogIn {
                username: f.text("username"),
                password: f.text("password"),
                next: f.text("next"),
            }>
                <input type="hidden" name="next" value=next />
                <TextField label="Username" name="username" autocomplete="username" required=true
                    error=field_error(error, "username") />
                <TextField label="Password" name="password" kind="password"
                    autocomplete="current-password" required=true
                    error=field_error(error, "password") />
                <div class="form-actions">
                    <button type="submit" class="button" disabled=move || action.pending().get()>
                        "Sign in"
                    </button>
                </div>
            </ServerForm>
        </section>
    }
}
