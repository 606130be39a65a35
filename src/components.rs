//! Small building blocks shared by several pages.

use crate::errors::AppError;
use leptos::prelude::*;

/// A labelled form input with its help text and its error, wired for assistive technology.
#[component]
pub fn TextField(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] help: &'static str,
    #[prop(optional, into)] value: String,
    #[prop(optional)] required: bool,
    #[prop(optional)] maxlength: Option<usize>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let help_id = format!("{id}-help");
    let described_by = {
        let (error_id, help_id) = (error_id.clone(), help_id.clone());
        move || {
            let mut ids = Vec::new();
            if !help.is_empty() {
                ids.push(help_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                value=value
                required=required
                maxlength=maxlength
                autocomplete=(!autocomplete.is_empty()).then_some(autocomplete)
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described_by
            />
            {(!help.is_empty()).then(|| view! { <p class="help" id=help_id>{help}</p> })}
            <FieldError id=error_id error />
        </div>
    }
}

/// The message under a field, announced when it appears.
#[component]
pub fn FieldError(id: String, #[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <p class="field-error" id=id role="alert" hidden=move || error.get().is_none()>
            {move || error.get()}
        </p>
    }
}

/// The error of the latest submission of `action` that belongs to `field`.
pub fn field_error<T: Send + Sync + 'static>(
    result: Signal<Option<Result<T, AppError>>>,
    field: &'static str,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        result.with(|r| match r {
            Some(Err(error)) => error.for_field(field),
            _ => None,
        })
    })
}

/// The latest submission's error that belongs to no field, shown above the form.
#[component]
pub fn FormAlert<T: Send + Sync + 'static>(
    #[prop(into)] result: Signal<Option<Result<T, AppError>>>,
) -> impl IntoView {
    let message = move || {
        result.with(|r| match r {
            Some(Err(error)) => error.general(),
            _ => None,
        })
    };
    view! {
        <div class="alert error" role="alert" hidden=move || message().is_none()>
            {message}
        </div>
    }
}

/// A full page load of `path`, so the whole page (header included) reflects a new session.
pub fn load_page(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        if let Some(window) = web_sys::window() {
            let _ = window.location().assign(path);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}
