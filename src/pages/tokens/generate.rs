//! The Generate dialog: name, description, expiration, access and allowlist, then the
//! one-time reveal.

use super::GenerateToken;
use crate::pages::components::{action_error, field_error, FieldError, FormAlert, ServerForm};
use crate::pages::tokens::dialogs::{focus, sync_dialog, Reveal};
use crate::time::LocalTime;
use crate::tokens::rules::{
    end_of_day, latest_custom_date, parse_date, Access, ExpirationRequest, TokenError,
    MAX_ALLOWED_IPS, PRESET_DAYS,
};
use crate::web::page_error::AppError;
use chrono::{DateTime, Duration, Utc};
use leptos::html;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

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

/// What a generate form holds, as typed: to fill the plain form again after an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerateForm {
    pub name: String,
    pub description: String,
    pub expiration: String,
    pub custom_date: String,
    pub access: String,
    pub allowed_ips: String,
}

impl Default for GenerateForm {
    fn default() -> GenerateForm {
        GenerateForm {
            name: String::new(),
            description: String::new(),
            expiration: "30".into(),
            custom_date: String::new(),
            access: Access::ReadWrite.as_str().into(),
            allowed_ips: String::new(),
        }
    }
}

#[component]
pub(super) fn GenerateDialog(
    action: ServerAction<GenerateToken>,
    open: RwSignal<bool>,
    /// The policy's longest lifetime (SPEC §14): longer presets are not offered.
    max_days: i64,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    let form = NodeRef::<html::Form>::new();
    sync_dialog(dialog, open.into());
    let error = action_error(action);
    let revealed = Memo::new(move |_| match action.value().get() {
        Some(Ok(new)) => Some(new),
        _ => None,
    });
    let showing_secret = Memo::new(move |_| revealed.with(Option::is_some));
    let first_choice = default_choice(max_days);
    let choice = RwSignal::new(first_choice.clone());
    let custom_date = RwSignal::new(String::new());

    // Closing (Cancel, Done, Esc) forgets the secret for good and returns focus.
    let on_close = move |_| {
        open.set(false);
        if revealed.get_untracked().is_some() {
            action.value().set(None);
            choice.set(first_choice.clone());
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
                    <Reveal title_id="generate-title" new=Signal::derive(move || revealed.get()) />
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
                        <GenerateFields error choice custom_date values=GenerateForm::default() plain=false max_days />
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

/// The fields of a generate form: in the dialog (`plain` false), and on the page that works
/// without WebAssembly (`plain`: every field shown, filled with `values`).
#[component]
pub(super) fn GenerateFields(
    error: Signal<Option<AppError>>,
    choice: RwSignal<String>,
    custom_date: RwSignal<String>,
    values: GenerateForm,
    plain: bool,
    max_days: i64,
) -> impl IntoView {
    let read_only = values.access == Access::Read.as_str();
    view! {
        <div class="field">
            <label for="token-name">"Token Name"</label>
            <input id="token-name" name="name" type="text" required maxlength="100"
                autocomplete="off" autofocus value=values.name
                aria-invalid=move || field_error(error, "name").get().map(|_| "true")
                aria-describedby="token-name-error" />
            <FieldError id="token-name-error".into() error=field_error(error, "name") />
        </div>
        <div class="field">
            <label for="token-description">"Description"</label>
            <textarea id="token-description" name="description" maxlength="500"
                aria-invalid=move || field_error(error, "description").get().map(|_| "true")
                aria-describedby="token-description-help token-description-error">{values.description}</textarea>
            <p class="help" id="token-description-help">"Optional. What is this token for?"</p>
            <FieldError id="token-description-error".into() error=field_error(error, "description") />
        </div>
        <ExpirationField choice custom_date plain max_days error=field_error(error, "expiration") />
        <div class="field">
            <label for="token-access">"Access"</label>
            <select id="token-access" name="access" aria-describedby="token-access-help">
                <option value="read_write" selected=!read_only>"Read and write"</option>
                <option value="read" selected=read_only>"Read only"</option>
            </select>
            <p class="help" id="token-access-help">
                "Read only allows GET, HEAD and OPTIONS requests."
            </p>
        </div>
        <div class="field">
            <label for="token-allowed-ips">"Allowed addresses"</label>
            <input id="token-allowed-ips" name="allowed_ips" type="text"
                autocomplete="off" spellcheck="false" value=values.allowed_ips
                placeholder="203.0.113.0/24, 2001:db8::1"
                aria-invalid=move || field_error(error, "allowed_ips").get().map(|_| "true")
                aria-describedby="token-allowed-ips-help token-allowed-ips-error" />
            <p class="help" id="token-allowed-ips-help">
                {format!("Optional. Up to {MAX_ALLOWED_IPS} IP addresses or networks, separated by commas; empty means anywhere.")}
            </p>
            <FieldError id="token-allowed-ips-error".into() error=field_error(error, "allowed_ips") />
        </div>
    }
}

/// The dialog's first choice: 30 days, or the longest preset the policy allows under it.
fn default_choice(max_days: i64) -> String {
    if max_days >= 30 {
        "30".into()
    } else if max_days >= 7 {
        "7".into()
    } else {
        "custom".into()
    }
}

#[component]
fn ExpirationField(
    choice: RwSignal<String>,
    custom_date: RwSignal<String>,
    /// Without scripts: the date field always shown, and no live "will expire on" line.
    plain: bool,
    max_days: i64,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let today = move || Utc::now().date_naive().to_string();
    let latest = move || latest_custom_date(Utc::now(), max_days).to_string();
    let resulting = move || -> Option<DateTime<Utc>> {
        let days = choice.with(|c| c.parse::<i64>().ok());
        match days {
            Some(days) => Some(Utc::now() + Duration::days(days)),
            None => custom_date
                .with(|date| parse_date(date))
                .and_then(end_of_day),
        }
    };
    let chosen = choice.get_untracked();
    view! {
        <fieldset class="field expiration">
            <legend>"Expiration"</legend>
            <label for="token-expiration" class="visually-hidden">"Expires in"</label>
            <select id="token-expiration" name="expiration"
                aria-describedby="token-expiration-result token-expiration-error"
                on:change=move |ev| choice.set(event_target_value(&ev))
                prop:value=move || choice.get()>
                // Presets longer than the policy allows are left out (disabled and hidden).
                <option value="7" selected=chosen == "7" disabled={7 > max_days} hidden={7 > max_days}>"7 days"</option>
                <option value="30" selected=chosen == "30" disabled={30 > max_days} hidden={30 > max_days}>"30 days"</option>
                <option value="60" selected=chosen == "60" disabled={60 > max_days} hidden={60 > max_days}>"60 days"</option>
                <option value="90" selected=chosen == "90" disabled={90 > max_days} hidden={90 > max_days}>"90 days"</option>
                <option value="365" selected=chosen == "365" disabled={365 > max_days} hidden={365 > max_days}>"1 year"</option>
                <option value="custom" selected=chosen == "custom">"Custom date…"</option>
            </select>
            <div hidden=move || !plain && choice.with(|c| c != "custom")>
                <label for="token-custom-date">
                    {if plain { "With “Custom date…”: expires at the end of (UTC)" } else { "Expires at the end of (UTC)" }}
                </label>
                <input id="token-custom-date" name="custom_date" type="date"
                    aria-describedby="token-expiration-range"
                    value=custom_date.get_untracked()
                    on:input=move |ev| custom_date.set(event_target_value(&ev))
                    prop:value=move || custom_date.get() />
                <p class="help" id="token-expiration-range">
                    {move || format!("Any date from {} to {}.", today(), latest())}
                </p>
            </div>
            <p class="help" id="token-expiration-result" aria-live="polite">
                {move || match (plain, resulting()) {
                    (true, _) => view! { "Presets count from now." }.into_any(),
                    (false, Some(at)) => view! { "The token will expire on " <LocalTime at /> "." }.into_any(),
                    (false, None) => view! { "Pick a date up to " {max_days} " days from today." }.into_any(),
                }}
            </p>
            <FieldError id="token-expiration-error".into() error />
        </fieldset>
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
