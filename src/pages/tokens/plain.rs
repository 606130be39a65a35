//! The Tokens page's actions as pages of their own, for browsers that have not loaded (or will
//! not run) the WebAssembly: generating at `/settings/tokens/new`, regenerating at
//! `/settings/tokens/{id}/regenerate` and deleting at `/settings/tokens/{id}/delete`. Each is a
//! plain form; generating and regenerating answer the post with the page itself, showing the
//! secret once (`web::form_answer`), never through a redirect. With WebAssembly, the Tokens
//! page's dialogs do the same without leaving the page.

use super::{list_tokens, DeleteToken, GeneratedToken, TokenView};
use crate::domain::problem::Kind;
use crate::pages::components::{posted_error, FormAlert};
use crate::pages::tokens::dialogs::REVEAL_WARNING;
use crate::pages::tokens::edit::get_token;
use crate::pages::tokens::generate::{GenerateFields, GenerateForm};
use crate::pages::{SettingsTabs, SignedOutNotice};
use crate::tokens::rules::limit_message;
use crate::web::page_error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

pub const NEW_TOKEN_PATH: &str = "/settings/tokens/new";

/// Where a token's plain regenerate or delete page is.
pub fn action_path(id: i64, action: &str) -> String {
    format!("/settings/tokens/{id}/{action}")
}

/// What a plain generate form's post came to, for the page rendered as its answer.
#[derive(Clone, Debug)]
pub struct GenerateOutcome {
    pub form: GenerateForm,
    pub result: Result<GeneratedToken, AppError>,
}

/// What a plain regenerate form's post came to.
#[derive(Clone, Debug)]
pub struct RegenerateOutcome(pub Result<GeneratedToken, AppError>);

/// The reveal of a new secret, as a page's card: the field is selected for copying by hand
/// (a Copy button needs scripts), and Done goes back to the list.
#[component]
fn RevealCard(new: GeneratedToken) -> impl IntoView {
    view! {
        <section class="card narrow-card reveal" aria-labelledby="reveal-title">
            <h2 id="reveal-title">"Your new token"</h2>
            <p>"Token " <strong>{new.token.name.clone()}</strong> " is ready."</p>
            <div class="alert warning" role="alert">{REVEAL_WARNING}</div>
            <div class="field">
                <label for="token-secret">"Token"</label>
                <input id="token-secret" class="mono secret" type="text" readonly autofocus
                    value=new.secret.clone() spellcheck="false" autocomplete="off" />
                <p class="help">"Select the token and press Ctrl+C (⌘C) to copy it."</p>
            </div>
            <div class="form-actions">
                <a class="button" href="/settings/tokens">"Done"</a>
            </div>
        </section>
    }
}

#[component]
pub fn NewTokenPage() -> impl IntoView {
    let posted = use_context::<GenerateOutcome>();
    let tokens = Resource::new(|| (), |_| list_tokens());
    view! {
        <Title text="Generate a new token" />
        <SettingsTabs current="Tokens" />
        {match posted {
            Some(GenerateOutcome { result: Ok(new), .. }) => view! { <RevealCard new /> }.into_any(),
            posted => {
                let (form, error) = match posted {
                    Some(GenerateOutcome { form, result }) => (form, result.err()),
                    None => (GenerateForm::default(), None),
                };
                view! {
                    <h1>"Generate a new token"</h1>
                    <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                        {move || {
                            let form = form.clone();
                            let error = error.clone();
                            Suspend::new(async move {
                                match tokens.await {
                                    Ok(list) if list.active >= list.limit => view! {
                                        <p class="alert warning" role="alert">{limit_message(list.limit)}</p>
                                        <p><a href="/settings/tokens">"Back to your tokens"</a></p>
                                    }.into_any(),
                                    Ok(list) => view! {
                                        <GenerateForm form error max_days=list.max_lifetime_days />
                                    }.into_any(),
                                    Err(AppError::SignedOut) => view! { <SignedOutNotice /> }.into_any(),
                                    Err(error) => view! {
                                        <div class="alert error" role="alert">{error.to_string()}</div>
                                    }.into_any(),
                                }
                            })
                        }}
                    </Suspense>
                }.into_any()
            }
        }}
    }
}

#[component]
fn GenerateForm(form: GenerateForm, error: Option<AppError>, max_days: i64) -> impl IntoView {
    let error = Signal::stored(error);
    let choice = RwSignal::new(form.expiration.clone());
    let custom_date = RwSignal::new(form.custom_date.clone());
    view! {
        <section class="card narrow-card" aria-label="New token">
            <FormAlert error />
            <form method="post" action=NEW_TOKEN_PATH>
                <GenerateFields error choice custom_date values=form plain=true max_days />
                <div class="form-actions">
                    <a class="button secondary" href="/settings/tokens">"Cancel"</a>
                    <button type="submit" class="button">"Generate"</button>
                </div>
            </form>
        </section>
    }
}

/// The token a confirmation page is about, from the `:id` in its address.
fn token_from_address() -> Resource<Result<TokenView, AppError>> {
    let id: Option<i64> =
        use_params_map().with_untracked(|p| p.get("id").and_then(|id| id.parse().ok()));
    Resource::new(
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
    )
}

/// A confirmation page's frame: the token, or why there is none.
#[component]
fn ConfirmFrame(
    title: &'static str,
    token: Resource<Result<TokenView, AppError>>,
    confirm: fn(TokenView) -> AnyView,
) -> impl IntoView {
    view! {
        <Title text=title />
        <SettingsTabs current="Tokens" />
        <h1>{title}</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match token.await {
                    Ok(token) => confirm(token),
                    Err(AppError::SignedOut) => view! { <SignedOutNotice /> }.into_any(),
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
pub fn RegenerateTokenPage() -> impl IntoView {
    match use_context::<RegenerateOutcome>() {
        Some(RegenerateOutcome(Ok(new))) => view! {
            <Title text="Token regenerated" />
            <SettingsTabs current="Tokens" />
            <RevealCard new />
        }
        .into_any(),
        _ => view! {
            <ConfirmFrame title="Regenerate token" token=token_from_address() confirm=|token| {
                let error = Signal::stored(
                    use_context::<RegenerateOutcome>().and_then(|outcome| outcome.0.err()),
                );
                view! {
                    <section class="card narrow-card" aria-label="Confirm">
                        <p>
                            {format!(
                                "Regenerate token ‘{}’? Its current secret stops working \
                                 immediately. The new one keeps its name, access and allowlist, \
                                 and the lifetime it had.",
                                token.name
                            )}
                        </p>
                        <FormAlert error />
                        <form method="post" action=action_path(token.id, "regenerate")>
                            <div class="form-actions">
                                <a class="button secondary" href="/settings/tokens">"Cancel"</a>
                                <button type="submit" class="button">"Regenerate"</button>
                            </div>
                        </form>
                    </section>
                }.into_any()
            } />
        }
        .into_any(),
    }
}

#[component]
pub fn DeleteTokenPage() -> impl IntoView {
    view! {
        <ConfirmFrame title="Delete token" token=token_from_address() confirm=|token| {
            let error = Signal::stored(posted_error(DeleteToken::PATH));
            view! {
                <section class="card narrow-card" aria-label="Confirm">
                    <p>
                        {format!(
                            "Delete token ‘{}’? Anything using it will stop working immediately.",
                            token.name
                        )}
                    </p>
                    <FormAlert error />
                    <form method="post" action=DeleteToken::url()>
                        <input type="hidden" name="id" value=token.id.to_string() />
                        <div class="form-actions">
                            <a class="button secondary" href="/settings/tokens">"Cancel"</a>
                            <button type="submit" class="button danger solid">"Delete"</button>
                        </div>
                    </form>
                </section>
            }.into_any()
        } />
    }
}

/// `POST /settings/tokens/new`: generates a token from the plain form and answers with the page,
/// showing the secret once, or the form again with what went wrong.
#[cfg(feature = "ssr")]
pub async fn generate_answer(
    axum::extract::State(state): axum::extract::State<crate::web::state::AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use crate::pages::form_answer;
    use crate::pages::tokens::generate::expiration_from_form;
    use crate::tokens::allowlist::split_text;
    use crate::tokens::rules::Access;
    use crate::tokens::service::GenerateRequest;
    let (parts, body) = request.into_parts();
    let fields = form_answer::fields(body).await.unwrap_or_default();
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let form = GenerateForm {
        name: field("name"),
        description: field("description"),
        expiration: field("expiration"),
        custom_date: field("custom_date"),
        access: field("access"),
        allowed_ips: field("allowed_ips"),
    };
    let result = async {
        let caller = form_answer::caller(&parts)?;
        let request = GenerateRequest {
            name: &form.name,
            description: &form.description,
            expiration: expiration_from_form(&form.expiration, &form.custom_date)?,
            access: Access::parse(&form.access)?,
            allowed_ips: split_text(&form.allowed_ips),
        };
        let origin = crate::web::origin_of(&parts);
        let generated = state
            .tokens()
            .generate(caller.user.id, request, &origin)
            .await?;
        super::revealed(&state, caller.user.id, generated).await
    }
    .await;
    form_answer::render(state, parts, GenerateOutcome { form, result }).await
}

/// `POST /settings/tokens/{id}/regenerate`: regenerates from the plain confirmation and answers
/// with the page, showing the new secret once.
#[cfg(feature = "ssr")]
pub async fn regenerate_answer(
    axum::extract::State(state): axum::extract::State<crate::web::state::AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use crate::pages::form_answer;

    let (parts, _) = request.into_parts();
    let result = async {
        let caller = form_answer::caller(&parts)?;
        let id: i64 = id
            .parse()
            .map_err(|_| AppError::refused(Kind::NotFound, "That token no longer exists."))?;
        let origin = crate::web::origin_of(&parts);
        let regenerated = state
            .tokens()
            .regenerate(caller.user.id, id, None, &origin)
            .await?;
        super::revealed(&state, caller.user.id, regenerated).await
    }
    .await;
    form_answer::render(state, parts, RegenerateOutcome(result)).await
}
