//! `/settings/tokens/{id}/edit`: a token's name, description, access and allowlist, in a plain
//! form rendered on the server (it needs no WebAssembly). Saving applies from the very next
//! request the token makes.

use super::TokenView;
use crate::domain::problem::Kind;
use crate::pages::components::{field_error, posted_error, FormAlert, TextField};
use crate::tokens::rules::{Access, MAX_ALLOWED_IPS};
use crate::web::page_error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// One of the caller's tokens, for its edit form.
#[server(prefix = "/rpc", endpoint = "tokens_get")]
pub async fn get_token(id: i64) -> Result<TokenView, AppError> {
    use crate::web::context;
    let caller = context::caller()?;
    let state = context::state();
    let summary = state.tokens().get(caller.user.id, id).await?;
    Ok(TokenView::of(summary, state.clock.now()))
}

/// Saves the edit form; a plain post goes back to the Tokens page, which says it was saved.
#[server(prefix = "/rpc", endpoint = "tokens_edit")]
pub async fn edit_token(
    id: i64,
    name: String,
    description: String,
    access: String,
    allowed_ips: String,
) -> Result<TokenView, AppError> {
    use crate::tokens::allowlist::split_text;
    use crate::tokens::service::EditRequest;
    use crate::web::context;
    let caller = context::caller()?;
    let state = context::state();
    let request = EditRequest {
        name: Some(&name),
        description: Some(&description),
        access: Some(Access::parse(&access)?),
        allowed_ips: Some(split_text(&allowed_ips)),
    };
    let summary = state
        .tokens()
        .edit(caller.user.id, id, request, &context::origin())
        .await?;
    context::back_to_form(&format!("/settings/tokens?saved={id}"));
    Ok(TokenView::of(summary, state.clock.now()))
}

#[component]
pub fn EditTokenPage() -> impl IntoView {
    let id = use_params_map().with_untracked(|p| p.get("id").and_then(|id| id.parse().ok()));
    let token = Resource::new(
        move || id,
        |id| async move {
            match id {
                Some(id) => get_token(id).await,
                None => Err(AppError::refused(
                    Kind::NotFound,
                    "That token no longer exists.",
                )),
            }
        },
    );
    view! {
        <Title text="Edit token" />
        <crate::pages::SettingsTabs current="Tokens" />
        <h1>"Edit token"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match token.await {
                    Ok(token) => view! { <EditForm token /> }.into_any(),
                    Err(AppError::SignedOut) => view! {
                        <crate::pages::SignedOutNotice />
                    }.into_any(),
                    Err(error) => view! {
                        <div class="alert error" role="alert">{error.to_string()}</div>
                        <p><a href="/settings/tokens">"Back to your tokens"</a></p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EditForm(token: TokenView) -> impl IntoView {
    let error = Signal::stored(posted_error(EditToken::PATH));
    let read_only = token.access == Access::Read;
    view! {
        <section class="card narrow-card" aria-labelledby="edit-heading">
            <h2 id="edit-heading">{format!("patio_…{}", token.hint)}</h2>
            <p class="help">
                "The secret stays the same; to replace it, regenerate the token."
            </p>
            <FormAlert error />
            <form method="post" action=EditToken::url()>
                <input type="hidden" name="id" value=token.id.to_string() />
                <TextField label="Token Name" name="name" value=token.name.clone() required=true
                    maxlength=100 autocomplete="off" error=field_error(error, "name") />
                <div class="field">
                    <label for="token-description">"Description"</label>
                    <textarea id="token-description" name="description" maxlength="500">
                        {token.description.clone()}
                    </textarea>
                    <p class="field-error" role="alert" hidden=move || field_error(error, "description").get().is_none()>
                        {move || field_error(error, "description").get()}
                    </p>
                </div>
                <div class="field">
                    <label for="token-access">"Access"</label>
                    <select id="token-access" name="access">
                        <option value="read_write" selected=!read_only>"Read and write"</option>
                        <option value="read" selected=read_only>"Read only"</option>
                    </select>
                </div>
                <TextField label="Allowed addresses" name="allowed_ips"
                    value=token.allowed_ips.join(", ") autocomplete="off"
                    help=format!("Up to {MAX_ALLOWED_IPS} IP addresses or networks, separated by commas; empty means anywhere.")
                    error=field_error(error, "allowed_ips") />
                <div class="form-actions">
                    <a class="button secondary" href="/settings/tokens">"Cancel"</a>
                    <button type="submit" class="button">"Save"</button>
                </div>
            </form>
        </section>
    }
}
