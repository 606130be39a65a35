//! User Settings › Tokens (SPEC §4): the token table, the Generate dialog with its one-time
//! reveal, and deletion with confirmation. Server functions sit beside the components.

use super::rules::{
    end_of_day, latest_custom_date, parse_date, Access, ExpirationRequest, TokenError, TokenStatus,
    MAX_ACTIVE_TOKENS, MAX_ALLOWED_IPS, PRESET_DAYS,
};
use crate::accounts::pages::SettingsTabs;
use crate::components::{action_error, field_error, FieldError, FormAlert, ServerForm};
use crate::errors::AppError;
use crate::time::LocalTime;
use chrono::{DateTime, Duration, Utc};
use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

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
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
    pub active: usize,
}

/// The answer to a generation: the only response that ever carries the secret. `tokens` is the
/// list as it now stands, for the page to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub token: TokenView,
    pub secret: String,
    pub tokens: TokenList,
}

#[cfg(feature = "ssr")]
impl TokenView {
    pub fn of(token: crate::store::PatRecord, now: DateTime<Utc>) -> TokenView {
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
            revoked,
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

/// Reads the dialog's Expiration fields: a preset number of days, or `custom` with a date.
pub fn expiration_from_form(
    choice: &str,
    custom_date: &str,
) -> Result<ExpirationRequest, TokenError> {
    if choice == "custom" {
        let date = parse_date(custom_date).ok_or_else(|| {
            TokenError::InvalidExpiration("Enter the custom date as a valid date.".into())
        })?;
        return Ok(ExpirationRequest::EndOfDay(date));
    }
    choice
        .parse::<i64>()
        .ok()
        .filter(|days| PRESET_DAYS.contains(days))
        .map(ExpirationRequest::InDays)
        .ok_or_else(|| TokenError::InvalidExpiration("Choose an expiration.".into()))
}

/// The caller's tokens as the page shows them, newest first.
#[cfg(feature = "ssr")]
async fn current_list(user_id: i64) -> Result<TokenList, AppError> {
    let state = crate::accounts::pages::on_server::state();
    let now = state.clock.now();
    let tokens: Vec<TokenView> = super::service::list(&state, user_id)
        .await?
        .into_iter()
        .map(|token| TokenView::of(token, now))
        .collect();
    let active = tokens.iter().filter(|t| t.status.is_active()).count();
    Ok(TokenList { tokens, active })
}

#[server(prefix = "/rpc", endpoint = "tokens_list")]
pub async fn list_tokens() -> Result<TokenList, AppError> {
    use crate::accounts::pages::on_server;
    let caller = on_server::caller()?;
    current_list(caller.user.id).await
}

#[server(prefix = "/rpc", endpoint = "tokens_generate")]
pub async fn generate_token(
    name: String,
    description: String,
    expiration: String,
    custom_date: Option<String>,
    access: Option<String>,
    allowed_ips: Option<String>,
) -> Result<NewToken, AppError> {
    use super::service::{self, GenerateRequest};
    use crate::accounts::pages::on_server;
    let caller = on_server::caller()?;
    // Without WebAssembly the answer would be a redirect, and the secret would be lost with a
    // token created for nothing: refuse before creating anything.
    if on_server::is_plain_form_post() {
        return Err(AppError::Refused(
            "Generating a token needs JavaScript, so that the secret can be shown to you once."
                .into(),
        ));
    }
    let state = on_server::state();
    let expiration = expiration_from_form(&expiration, custom_date.as_deref().unwrap_or(""))?;
    let allowed_ips = allowed_ips.unwrap_or_default();
    let request = GenerateRequest {
        name: &name,
        description: &description,
        expiration,
        access: Access::parse(access.as_deref().unwrap_or(""))?,
        allowed_ips: super::allowlist::split_text(&allowed_ips),
    };
    let generated = service::generate(&state, caller.user.id, request).await?;
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
    }
    Ok(NewToken {
        token: TokenView::of(generated.token, state.clock.now()),
        secret: generated.secret.into_exposed(),
        tokens: current_list(caller.user.id).await?,
    })
}

/// Deletes one of the caller's tokens; answers with the list as it now stands.
#[server(prefix = "/rpc", endpoint = "tokens_delete")]
pub async fn delete_token(id: i64) -> Result<TokenList, AppError> {
    use crate::accounts::pages::on_server;
    let caller = on_server::caller()?;
    super::service::delete(&on_server::state(), caller.user.id, id).await?;
    current_list(caller.user.id).await
}

const LIMIT_MESSAGE: &str =
    "You have 5 active tokens, the maximum. Delete one to generate another.";

/// The page renders on the server with the caller's tokens; `TokenManager` takes it from there.
#[component]
pub fn TokensPage() -> impl IntoView {
    let tokens = Resource::new(|| (), |_| list_tokens());
    view! {
        <Title text="Tokens" />
        <SettingsTabs current="Tokens" />
        <Suspense fallback=|| view! { <p>"Loading your tokens…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(list) => view! { <TokenManager initial=list /> }.into_any(),
                    Err(AppError::SignedOut) => view! {
                        <h1>"Tokens"</h1>
                        <crate::accounts::pages::SignedOutNotice />
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
fn TokenManager(initial: TokenList) -> impl IntoView {
    let generate = ServerAction::<GenerateToken>::new();
    let delete = ServerAction::<DeleteToken>::new();
    let list = RwSignal::new(initial);
    Effect::new(move |_| {
        if let Some(Ok(new)) = generate.value().get() {
            list.set(new.tokens);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(now)) = delete.value().get() {
            list.set(now);
        }
    });
    let dialog_open = RwSignal::new(false);
    let to_delete = RwSignal::new(None::<(i64, String)>);
    let at_limit = move || list.with(|l| l.active >= MAX_ACTIVE_TOKENS);

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
            <button id="generate-token" type="button" class="button"
                disabled=at_limit
                aria-describedby=move || at_limit().then_some("limit-note")
                on:click=move |_| dialog_open.set(true)>
                "Generate New Token"
            </button>
        </div>
        <p class="meta-line">
            {move || format!("{} of {MAX_ACTIVE_TOKENS} active tokens", list.with(|l| l.active))}
        </p>
        {move || at_limit().then(|| view! {
            <p id="limit-note" class="alert warning">{LIMIT_MESSAGE}</p>
        })}
        {move || view! { <TokenTable tokens=list.get().tokens to_delete /> }}
        <GenerateDialog action=generate open=dialog_open />
        <DeleteDialog action=delete target=to_delete />
    }
}

#[component]
fn TokenTable(tokens: Vec<TokenView>, to_delete: RwSignal<Option<(i64, String)>>) -> impl IntoView {
    if tokens.is_empty() {
        return view! {
            <div class="empty card">
                <h2>"You have no tokens yet"</h2>
                <p>"Generate one to call the API from a script, a CI job or a spreadsheet."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data tokens">
                <caption class="visually-hidden">"Your personal access tokens, newest first"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Token"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {tokens.into_iter().map(|token| {
                        let label = format!("Delete {}", token.name);
                        let target = (token.id, token.name.clone());
                        view! {
                            <tr data-token-id=token.id.to_string()>
                                <td data-label="Name">
                                    <span class="token-name">{token.name.clone()}</span>
                                    {(!token.description.is_empty()).then(|| view! {
                                        <span class="token-description">{token.description.clone()}</span>
                                    })}
                                </td>
                                <td data-label="Token">
                                    <code class="hint">{format!("patio_…{}", token.hint)}</code>
                                    <span class="token-access">{token.access.label()}</span>
                                    {(!token.allowed_ips.is_empty()).then(|| view! {
                                        <span class="token-allowlist">
                                            "From " {token.allowed_ips.join(", ")}
                                        </span>
                                    })}
                                </td>
                                <td data-label="Created"><LocalTime at=token.created_at /></td>
                                <td data-label="Expires"><LocalTime at=token.expires_at /></td>
                                <td data-label="Last used">
                                    {match token.last_used_at {
                                        Some(at) => view! { <LocalTime at /> }.into_any(),
                                        None => view! { <span class="muted">"Never"</span> }.into_any(),
                                    }}
                                </td>
                                <td data-label="Status">
                                    <StatusBadge status=token.status />
                                    {token.revoked.clone().map(|why| view! {
                                        <span class="token-revoked">{why}</span>
                                    })}
                                </td>
                                <td class="actions">
                                    <button type="button" class="button small danger" aria-label=label
                                        on:click=move |_| to_delete.set(Some(target.clone()))>
                                        "Delete"
                                    </button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn StatusBadge(status: TokenStatus) -> impl IntoView {
    let class = match status {
        TokenStatus::Active => "badge active",
        TokenStatus::ExpiringSoon => "badge expiring",
        TokenStatus::Expired => "badge expired",
        TokenStatus::Revoked => "badge revoked",
    };
    view! { <span class=class>{status.label()}</span> }
}

/// Opens or closes a native modal dialog to follow `open` (the browser then traps focus and
/// closes it on Esc).
fn sync_dialog(dialog: NodeRef<html::Dialog>, open: Signal<bool>) {
    Effect::new(move |_| {
        let open = open.get();
        if let Some(dialog) = dialog.get() {
            if open && !dialog.open() {
                let _ = dialog.show_modal();
            } else if !open && dialog.open() {
                dialog.close();
            }
        }
    });
}

/// Moves focus to the element with `id` (back to what opened a dialog).
fn focus(id: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(element) = document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

#[component]
fn GenerateDialog(action: ServerAction<GenerateToken>, open: RwSignal<bool>) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    let form = NodeRef::<html::Form>::new();
    sync_dialog(dialog, open.into());
    let error = action_error(action);
    let revealed = Memo::new(move |_| match action.value().get() {
        Some(Ok(new)) => Some(new),
        _ => None,
    });
    let showing_secret = Memo::new(move |_| revealed.with(Option::is_some));
    let choice = RwSignal::new("30".to_owned());
    let custom_date = RwSignal::new(String::new());

    // Closing (Cancel, Done, Esc) forgets the secret for good and returns focus.
    let on_close = move |_| {
        open.set(false);
        if revealed.get_untracked().is_some() {
            action.value().set(None);
            choice.set("30".to_owned());
            custom_date.set(String::new());
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
        }
        focus("generate-token");
    };

    view! {
        <dialog node_ref=dialog class="modal" aria-labelledby="generate-title" on:close=on_close>
            {move || if showing_secret.get() {
                view! {
                    <Reveal new=Signal::derive(move || revealed.get()) on_done=move || open.set(false) />
                }.into_any()
            } else {
                view! {
                    <h2 id="generate-title">"Generate a new token"</h2>
                    <FormAlert error />
                    <ServerForm action node_ref=form read=|f| GenerateToken {
                        name: f.text("name"),
                        description: f.text("description"),
                        expiration: f.text("expiration"),
                        custom_date: Some(f.text("custom_date")),
                        access: Some(f.text("access")),
                        allowed_ips: Some(f.text("allowed_ips")),
                    }>
                        <div class="field">
                            <label for="token-name">"Token Name"</label>
                            <input id="token-name" name="name" type="text" required maxlength="100"
                                autocomplete="off" autofocus
                                aria-invalid=move || field_error(error, "name").get().map(|_| "true")
                                aria-describedby="token-name-error" />
                            <FieldError id="token-name-error".into() error=field_error(error, "name") />
                        </div>
                        <div class="field">
                            <label for="token-description">"Description"</label>
                            <textarea id="token-description" name="description" maxlength="500"
                                aria-invalid=move || field_error(error, "description").get().map(|_| "true")
                                aria-describedby="token-description-help token-description-error"></textarea>
                            <p class="help" id="token-description-help">"Optional. What is this token for?"</p>
                            <FieldError id="token-description-error".into() error=field_error(error, "description") />
                        </div>
                        <ExpirationField choice custom_date error=field_error(error, "expiration") />
                        <div class="field">
                            <label for="token-access">"Access"</label>
                            <select id="token-access" name="access" aria-describedby="token-access-help">
                                <option value="read_write" selected>"Read and write"</option>
                                <option value="read">"Read only"</option>
                            </select>
                            <p class="help" id="token-access-help">
                                "Read only allows GET, HEAD and OPTIONS requests."
                            </p>
                        </div>
                        <div class="field">
                            <label for="token-allowed-ips">"Allowed addresses"</label>
                            <input id="token-allowed-ips" name="allowed_ips" type="text"
                                autocomplete="off" spellcheck="false"
                                placeholder="203.0.113.0/24, 2001:db8::1"
                                aria-invalid=move || field_error(error, "allowed_ips").get().map(|_| "true")
                                aria-describedby="token-allowed-ips-help token-allowed-ips-error" />
                            <p class="help" id="token-allowed-ips-help">
                                {format!("Optional. Up to {MAX_ALLOWED_IPS} IP addresses or networks, separated by commas; empty means anywhere.")}
                            </p>
                            <FieldError id="token-allowed-ips-error".into() error=field_error(error, "allowed_ips") />
                        </div>
                        <div class="form-actions">
                            <button type="button" class="button secondary" on:click=move |_| open.set(false)>
                                "Cancel"
                            </button>
                            <button type="submit" class="button" disabled=move || action.pending().get()>
                                {move || if action.pending().get() { "Generating…" } else { "Generate" }}
                            </button>
                        </div>
                    </ServerForm>
                }.into_any()
            }}
        </dialog>
    }
}

#[component]
fn ExpirationField(
    choice: RwSignal<String>,
    custom_date: RwSignal<String>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let today = move || Utc::now().date_naive().to_string();
    let latest = move || latest_custom_date(Utc::now()).to_string();
    let resulting = move || -> Option<DateTime<Utc>> {
        let days = choice.with(|c| c.parse::<i64>().ok());
        match days {
            Some(days) => Some(Utc::now() + Duration::days(days)),
            None => custom_date
                .with(|date| parse_date(date))
                .and_then(end_of_day),
        }
    };
    view! {
        <fieldset class="field expiration">
            <legend>"Expiration"</legend>
            <label for="token-expiration" class="visually-hidden">"Expires in"</label>
            <select id="token-expiration" name="expiration"
                aria-describedby="token-expiration-result token-expiration-error"
                on:change=move |ev| choice.set(event_target_value(&ev))
                prop:value=move || choice.get()>
                <option value="7">"7 days"</option>
                <option value="30" selected>"30 days"</option>
                <option value="60">"60 days"</option>
                <option value="90">"90 days"</option>
                <option value="365">"1 year"</option>
                <option value="custom">"Custom date…"</option>
            </select>
            <div hidden=move || choice.with(|c| c != "custom")>
                <label for="token-custom-date">"Expires at the end of (UTC)"</label>
                <input id="token-custom-date" name="custom_date" type="date"
                    aria-describedby="token-expiration-range"
                    on:input=move |ev| custom_date.set(event_target_value(&ev))
                    prop:value=move || custom_date.get() />
                <p class="help" id="token-expiration-range">
                    {move || format!("Any date from {} to {}.", today(), latest())}
                </p>
            </div>
            <p class="help" id="token-expiration-result" aria-live="polite">
                {move || match resulting() {
                    Some(at) => view! { "The token will expire on " <LocalTime at /> "." }.into_any(),
                    None => view! { "Pick a date up to one year from today." }.into_any(),
                }}
            </p>
            <FieldError id="token-expiration-error".into() error />
        </fieldset>
    }
}

#[component]
fn Reveal(
    new: Signal<Option<NewToken>>,
    on_done: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy_failed = RwSignal::new(false);
    let secret = move || new.with(|n| n.as_ref().map(|n| n.secret.clone()).unwrap_or_default());
    let name = move || new.with(|n| n.as_ref().map(|n| n.token.name.clone()).unwrap_or_default());
    let field = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = field.get() {
            let _ = input.focus();
            input.select();
        }
    });
    let copy = move |_| {
        let text = secret();
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let clipboard = window().navigator().clipboard();
            let done = wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&text)).await;
            copied.set(done.is_ok());
            copy_failed.set(done.is_err());
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = text;
    };
    view! {
        <h2 id="generate-title">"Your new token"</h2>
        <p>"Token " <strong>{name}</strong> " is ready."</p>
        <div class="alert warning" role="alert">
            "Make sure to copy your token now. You won't be able to see it again."
        </div>
        <div class="field">
            <label for="token-secret">"Token"</label>
            <div class="secret-row">
                <input id="token-secret" node_ref=field class="mono secret" type="text" readonly
                    value=secret spellcheck="false" autocomplete="off" />
                <button type="button" class="button secondary" on:click=copy aria-live="polite">
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
            <p class="field-error" role="alert" hidden=move || !copy_failed.get()>
                "Copying was blocked by the browser. Select the token and press Ctrl+C (⌘C)."
            </p>
        </div>
        <div class="form-actions">
            <button type="button" class="button" on:click=move |_| on_done()>"Done"</button>
        </div>
    }
}

#[component]
fn DeleteDialog(
    action: ServerAction<DeleteToken>,
    target: RwSignal<Option<(i64, String)>>,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    sync_dialog(dialog, Signal::derive(move || target.get().is_some()));
    let error = action_error(action);
    // A finished deletion closes the dialog; the list reloads by itself.
    Effect::new(move |version: Option<usize>| {
        let now = action.version().get();
        if version.is_some_and(|v| v != now)
            && matches!(action.value().get_untracked(), Some(Ok(_)))
        {
            target.set(None);
        }
        now
    });
    let name = move || target.with(|t| t.as_ref().map(|(_, n)| n.clone()).unwrap_or_default());
    let id = move || target.with(|t| t.as_ref().map(|(id, _)| id.to_string()).unwrap_or_default());
    view! {
        <dialog node_ref=dialog class="modal narrow-modal" aria-labelledby="delete-title"
            on:close=move |_| {
                target.set(None);
                action.value().set(None);
                focus("generate-token");
            }>
            <h2 id="delete-title">"Delete token"</h2>
            <p>
                {move || format!("Delete token ‘{}’? Anything using it will stop working immediately.", name())}
            </p>
            <FormAlert error />
            <ServerForm action read=|f| DeleteToken { id: f.text("id").parse().unwrap_or_default() }>
                <input type="hidden" name="id" value=id />
                <div class="form-actions">
                    <button type="button" class="button secondary" autofocus on:click=move |_| target.set(None)>
                        "Cancel"
                    </button>
                    <button type="submit" class="button danger solid" disabled=move || action.pending().get()>
                        "Delete"
                    </button>
                </div>
            </ServerForm>
        </dialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn the_form_reads_presets_and_custom_dates() {
        assert_eq!(
            expiration_from_form("30", ""),
            Ok(ExpirationRequest::InDays(30))
        );
        assert_eq!(
            expiration_from_form("365", "2027-01-01"),
            Ok(ExpirationRequest::InDays(365))
        );
        assert!(expiration_from_form("45", "").is_err(), "only the presets");
        assert!(expiration_from_form("", "").is_err());
        assert_eq!(
            expiration_from_form("custom", " 2027-02-28 "),
            Ok(ExpirationRequest::EndOfDay(
                NaiveDate::from_ymd_opt(2027, 2, 28).unwrap()
            ))
        );
        assert!(
            expiration_from_form("custom", "2027-02-29").is_err(),
            "not a leap year"
        );
        assert!(expiration_from_form("custom", "tomorrow").is_err());
        assert!(expiration_from_form("custom", "").is_err());
    }
}
