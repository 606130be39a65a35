//! User Settings › Tokens (SPEC §4, §10): the token table, the Generate dialog with its one-time
//! reveal, regeneration and deletion with confirmation. The page's types and server functions
//! are here; each part of the page has a file of its own.

#[cfg(feature = "ssr")]
mod activity;
mod banner;
mod dialogs;
mod edit;
mod generate;
mod plain;
mod table;

use crate::pages::SettingsTabs;
use crate::tokens::rules::{limit_message, Access, TokenStatus};
use crate::web::page_error::AppError;
use chrono::{DateTime, Utc};
use dialogs::{DeleteDialog, RegenerateDialog};
use generate::GenerateDialog;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use table::TokenTable;

pub use banner::ExpiringBanner;
pub use edit::EditTokenPage;
pub use generate::expiration_from_form;
pub use plain::{DeleteTokenPage, NewTokenPage, RegenerateTokenPage};

/// A token as the page shows it. Never carries a secret or a digest. Instants travel as
/// milliseconds: the browser then needs no date parser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub hint: String,
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub expires_at: DateTime<Utc>,
    #[serde(with = "chrono::serde::ts_milliseconds_option")]
    pub last_used_at: Option<DateTime<Utc>>,
    pub status: TokenStatus,
    pub access: Access,
    /// Addresses and networks the token may be used from; empty means anywhere.
    pub allowed_ips: Vec<String>,
    /// For a revoked token: by whom and why, as a sentence.
    pub revoked: Option<String>,
    /// Whether it may get a new secret: not when it was revoked as leaked or by an admin.
    pub regenerable: bool,
    /// Its last 30 days of requests and the addresses it was used from, as markup made on
    /// the server (`activity::html`).
    pub activity: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
    pub active: usize,
    /// The instance's policy (SPEC §14): how many may be active, and the longest lifetime.
    pub limit: usize,
    pub max_lifetime_days: i64,
}

/// The answer to a generation: the only response that ever carries the secret. `tokens` is the
/// list as it now stands, for the page to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneratedToken {
    pub token: TokenView,
    pub secret: String,
    pub tokens: TokenList,
}

#[cfg(feature = "ssr")]
impl TokenView {
    pub fn of(summary: crate::tokens::service::TokenSummary, now: DateTime<Utc>) -> TokenView {
        let crate::tokens::service::TokenSummary {
            token,
            addresses,
            usage,
        } = summary;
        let revoked = token.revoked.as_ref().map(|revocation| {
            let by = revocation
                .by
                .as_ref()
                .map(|user| format!(" ({})", user.username))
                .unwrap_or_default();
            format!(
                "Revoked {}{by} on {} UTC.",
                revocation.reason.describe(),
                revocation.at.format("%Y-%m-%d %H:%M")
            )
        });
        TokenView {
            status: TokenStatus::of(token.expires_at, token.revoked.is_some(), now),
            access: token.access,
            allowed_ips: token.allowed_ips.entries(),
            regenerable: token
                .revoked
                .as_ref()
                .is_none_or(|revocation| revocation.reason.allows_regeneration()),
            revoked,
            activity: activity::html(&usage, &addresses),
            id: token.id,
            name: token.name,
            description: token.description,
            hint: token.hint,
            created_at: token.created_at,
            expires_at: token.expires_at,
            last_used_at: token.last_used_at,
        }
    }
}

/// The caller's tokens as the page shows them, newest first.
#[cfg(feature = "ssr")]
async fn current_list(
    state: &crate::web::state::AppState,
    user_id: i64,
) -> Result<TokenList, AppError> {
    let now = state.clock.now();
    let tokens: Vec<TokenView> = state
        .tokens()
        .list(user_id)
        .await?
        .into_iter()
        .map(|token| TokenView::of(token, now))
        .collect();
    let active = tokens.iter().filter(|t| t.status.is_active()).count();
    let policy = state.store.policy().await?;
    Ok(TokenList {
        tokens,
        active,
        limit: policy.max_active_tokens,
        max_lifetime_days: policy.max_lifetime_days,
    })
}

#[server(prefix = "/rpc", endpoint = "tokens_list")]
pub async fn list_tokens() -> Result<TokenList, AppError> {
    use crate::web::context;
    let caller = context::caller()?;
    current_list(&context::state(), caller.user.id).await
}

/// A new secret as the page shows it, once, with the list as it now stands.
#[cfg(feature = "ssr")]
async fn revealed(
    state: &crate::web::state::AppState,
    user_id: i64,
    generated: crate::tokens::service::Generated,
) -> Result<GeneratedToken, AppError> {
    Ok(GeneratedToken {
        token: TokenView::of(generated.token, state.clock.now()),
        secret: generated.secret.into_exposed(),
        tokens: current_list(state, user_id).await?,
    })
}

#[server(prefix = "/rpc", endpoint = "tokens_generate")]
pub async fn generate_token(
    name: String,
    description: String,
    expiration: String,
    custom_date: Option<String>,
    access: Option<String>,
    allowed_ips: Option<String>,
) -> Result<GeneratedToken, AppError> {
    use crate::tokens::service::GenerateRequest;
    use crate::web::context;
    let caller = context::caller()?;
    // Without WebAssembly the answer would be a redirect, and the secret would be lost with a
    // token created for nothing: refuse before creating anything.
    if context::is_plain_form_post() {
        return Err(AppError::refused(
            crate::domain::problem::Kind::Invalid,
            "Generating a token needs JavaScript, so that the secret can be shown to you once.",
        ));
    }
    let state = context::state();
    let expiration =
        generate::expiration_from_form(&expiration, custom_date.as_deref().unwrap_or(""))?;
    let allowed_ips = allowed_ips.unwrap_or_default();
    let request = GenerateRequest {
        name: &name,
        description: &description,
        expiration,
        access: Access::parse(access.as_deref().unwrap_or(""))?,
        allowed_ips: crate::tokens::allowlist::split_text(&allowed_ips),
    };
    let generated = state
        .tokens()
        .generate(caller.user.id, request, &context::origin())
        .await?;
    context::set_header(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    revealed(&state, caller.user.id, generated).await
}

/// Deletes one of the caller's tokens; answers with the list as it now stands.
#[server(prefix = "/rpc", endpoint = "tokens_delete")]
pub async fn delete_token(id: i64) -> Result<TokenList, AppError> {
    use crate::web::context;
    let caller = context::caller()?;
    let state = context::state();
    state
        .tokens()
        .delete(caller.user.id, id, &context::origin())
        .await?;
    context::back_to_form("/settings/tokens?deleted=1");
    current_list(&state, caller.user.id).await
}

/// Gives one of the caller's tokens a new secret; the answer carries it, once, and the list.
#[server(prefix = "/rpc", endpoint = "tokens_regenerate")]
pub async fn regenerate_token(id: i64) -> Result<GeneratedToken, AppError> {
    use crate::web::context;
    let caller = context::caller()?;
    // As with generating: without WebAssembly the new secret would be lost on the redirect.
    if context::is_plain_form_post() {
        return Err(AppError::refused(
            crate::domain::problem::Kind::Invalid,
            "Regenerating a token needs JavaScript, so that the new secret can be shown to you \
             once.",
        ));
    }
    let state = context::state();
    let regenerated = state
        .tokens()
        .regenerate(caller.user.id, id, None, &context::origin())
        .await?;
    context::set_header(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    revealed(&state, caller.user.id, regenerated).await
}

/// The plain forms' posts that answer with a page (`plain`).
#[cfg(feature = "ssr")]
pub fn routes() -> axum::Router<crate::web::state::AppState> {
    use axum::routing::post;
    axum::Router::new()
        .route(plain::NEW_TOKEN_PATH, post(plain::generate_answer))
        .route(
            "/settings/tokens/{id}/regenerate",
            post(plain::regenerate_answer),
        )
}

/// The page renders on the server with the caller's tokens; `TokenManager` takes it from there.
#[component]
pub fn TokensPage() -> impl IntoView {
    let tokens = Resource::new(|| (), |_| list_tokens());
    // After the edit form's plain post.
    let query = leptos_router::hooks::use_query_map();
    let saved = query.with_untracked(|q| q.get("saved").is_some());
    let deleted = query.with_untracked(|q| q.get("deleted").is_some());
    // The banner's "Regenerate it" link opens the confirmation for that token.
    let regenerate: Option<i64> = query.with_untracked(|q| q.get("regenerate")?.parse().ok());
    view! {
        <Title text="Tokens" />
        <SettingsTabs current="Tokens" />
        {saved.then(|| view! { <div class="alert success" role="status">"Token saved."</div> })}
        {deleted.then(|| view! { <div class="alert success" role="status">"Token deleted."</div> })}
        <Suspense fallback=|| view! { <p>"Loading your tokens…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(list) => view! {
                        <TokenManager initial=list open_regenerate=regenerate />
                    }.into_any(),
                    Err(AppError::SignedOut) => view! {
                        <h1>"Tokens"</h1>
                        <crate::pages::SignedOutNotice />
                    }.into_any(),
                    Err(error) => view! {
                        <h1>"Tokens"</h1>
                        <div class="alert error" role="alert">{error.to_string()}</div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Everything on the page that moves: the table, the limit, and the dialogs. Generating and
/// deleting answer with the new list, so the table follows without another request.
#[island]
fn TokenManager(initial: TokenList, open_regenerate: Option<i64>) -> impl IntoView {
    let generate = ServerAction::<GenerateToken>::new();
    let regenerate = ServerAction::<RegenerateToken>::new();
    let delete = ServerAction::<DeleteToken>::new();
    let list = RwSignal::new(initial);
    for action in [generate.value(), regenerate.value()] {
        Effect::new(move |_| {
            if let Some(Ok(new)) = action.get() {
                list.set(new.tokens);
            }
        });
    }
    Effect::new(move |_| {
        if let Some(Ok(now)) = delete.value().get() {
            list.set(now);
        }
    });
    let dialog_open = RwSignal::new(false);
    let to_delete = RwSignal::new(None::<(i64, String)>);
    let asked = open_regenerate.and_then(|id| {
        list.with_untracked(|l| {
            l.tokens
                .iter()
                .find(|t| t.id == id && t.regenerable)
                .map(|t| (t.id, t.name.clone()))
        })
    });
    let to_regenerate = RwSignal::new(asked);
    let at_limit = move || list.with(|l| l.active >= l.limit);
    let max_days = list.with_untracked(|l| l.max_lifetime_days);

    view! {
        <div class="page-head">
            <div>
                <h1>"Tokens"</h1>
                <p class="lead">
                    "Personal access tokens let scripts and tools call the Patio API as you, "
                    "with your access. Send one as "
                    <code>"Authorization: Bearer <token>"</code> "."
                </p>
            </div>
            // A link to the plain page (which explains the limit) until the WebAssembly runs;
            // then it opens the dialog, unless the limit is reached.
            <a id="generate-token" class="button" href=plain::NEW_TOKEN_PATH
                aria-disabled=move || at_limit().then_some("true")
                aria-describedby=move || at_limit().then_some("limit-note")
                on:click=move |ev| {
                    ev.prevent_default();
                    if !at_limit() {
                        dialog_open.set(true);
                    }
                }>
                "Generate New Token"
            </a>
        </div>
        <p class="meta-line">
            {move || list.with(|l| format!("{} of {} active tokens", l.active, l.limit))}
        </p>
        {move || at_limit().then(|| view! {
            <p id="limit-note" class="alert warning">{list.with(|l| limit_message(l.limit))}</p>
        })}
        {move || view! { <TokenTable tokens=list.get().tokens to_delete to_regenerate /> }}
        <GenerateDialog action=generate open=dialog_open max_days />
        <RegenerateDialog action=regenerate target=to_regenerate />
        <DeleteDialog action=delete target=to_delete />
    }
}
