//! Admin › Policy (`/admin/policy`, SPEC §14): the instance's token rules, in a plain form
//! rendered on the server (it needs no WebAssembly).

use crate::pages::components::{field_error, posted_error, AdminContent, FormAlert, TextField};
use crate::tokens::policy::{Policy, TokenCreators};
use crate::tokens::rules::{MAX_ACTIVE_TOKENS, MAX_LIFETIME_DAYS};
use crate::web::page_error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

pub const POLICY_PATH: &str = "/admin/policy";

#[server(prefix = "/rpc", endpoint = "admin_policy")]
pub async fn get_policy() -> Result<Policy, AppError> {
    use crate::web::context;
    context::admin()?;
    Ok(context::state().store.policy().await?)
}

/// Saves the form; a plain post goes back to the page, which says it was saved.
#[server(prefix = "/rpc", endpoint = "admin_set_policy")]
pub async fn set_policy(
    max_lifetime_days: String,
    max_active_tokens: String,
    revoke_unused_after_days: String,
    token_creators: String,
) -> Result<Policy, AppError> {
    use crate::web::context;
    context::admin()?;
    let number = |field: &'static str, text: &str| {
        text.trim()
            .parse::<i64>()
            .map_err(|_| AppError::field(field, "Enter a whole number."))
    };
    let unused = match revoke_unused_after_days.trim() {
        "" => None,
        text => Some(number("revoke_unused_after_days", text)?),
    };
    let creators = TokenCreators::parse(&token_creators)
        .ok_or_else(|| AppError::field("token_creators", "Choose who may create tokens."))?;
    let policy = Policy::new(
        number("max_lifetime_days", &max_lifetime_days)?,
        number("max_active_tokens", &max_active_tokens)?,
        unused,
        creators,
    )?;
    let state = context::state();
    let now = state.clock.now();
    let policy = crate::admin::policy::set(&state.store, now, policy, &context::origin()).await?;
    context::back_to_form(&format!("{POLICY_PATH}?saved=1"));
    Ok(policy)
}

#[component]
pub fn AdminPolicyPage() -> impl IntoView {
    crate::pages::components::forbid_non_admins();
    let saved = leptos_router::hooks::use_query_map().with_untracked(|q| q.get("saved").is_some());
    let policy = Resource::new(|| (), |_| get_policy());
    view! {
        <Title text="Policy" />
        <p class="eyebrow">"Admin"</p>
        <h1>"Token policy"</h1>
        <p class="lead">
            "Rules every user's tokens follow. A policy can only tighten Patio's own limits: "
            {format!("at most {MAX_LIFETIME_DAYS} days and {MAX_ACTIVE_TOKENS} active tokens.")}
        </p>
        {saved.then(|| view! { <div class="alert success" role="status">"Policy saved."</div> })}
        <AdminContent data=policy forbidden="Only administrators can set the policy." show=|policy| view! { <PolicyForm policy /> } />
    }
}

#[component]
fn PolicyForm(policy: Policy) -> impl IntoView {
    let error = Signal::stored(posted_error(SetPolicy::PATH));
    let admins_only = policy.token_creators == TokenCreators::Admins;
    view! {
        <section class="card narrow-card" aria-label="Token policy">
            <FormAlert error />
            <form method="post" action=SetPolicy::url()>
                <TextField label="Maximum lifetime (days)" name="max_lifetime_days" kind="number"
                    value=policy.max_lifetime_days.to_string() required=true
                    help=format!("1 to {MAX_LIFETIME_DAYS}. Longer presets are no longer offered; tokens made before keep their expiry and are marked in All tokens.")
                    error=field_error(error, "max_lifetime_days") />
                <TextField label="Maximum active tokens per user" name="max_active_tokens" kind="number"
                    value=policy.max_active_tokens.to_string() required=true
                    help=format!("1 to {MAX_ACTIVE_TOKENS}.")
                    error=field_error(error, "max_active_tokens") />
                <TextField label="Revoke tokens unused for (days)" name="revoke_unused_after_days" kind="number"
                    value=policy.revoke_unused_after_days.map(|d| d.to_string()).unwrap_or_default()
                    help="Empty: never. Checked every hour; the owner can regenerate a token revoked this way."
                    error=field_error(error, "revoke_unused_after_days") />
                <div class="field">
                    <label for="policy-creators">"Who may create tokens"</label>
                    <select id="policy-creators" name="token_creators">
                        <option value="everyone" selected=!admins_only>"Everyone"</option>
                        <option value="admins" selected=admins_only>"Administrators only"</option>
                    </select>
                </div>
                <div class="form-actions">
                    <button type="submit" class="button">"Save policy"</button>
                </div>
            </form>
        </section>
    }
}
