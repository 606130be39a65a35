//! Small building blocks shared by several pages.

use crate::web::page_error::AppError;
use leptos::html;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// A labelled form input with its help text and its error, wired for assistive technology.
#[component]
pub fn TextField(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional, into)] help: String,
    #[prop(optional, into)] value: String,
    #[prop(optional)] required: bool,
    #[prop(optional)] maxlength: Option<usize>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let help_id = format!("{id}-help");
    let has_help = !help.is_empty();
    let described_by = {
        let (error_id, help_id) = (error_id.clone(), help_id.clone());
        move || {
            let mut ids = Vec::new();
            if has_help {
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
            {has_help.then(|| view! { <p class="help" id=help_id>{help}</p> })}
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

/// Why the latest submission of `action` failed, if it did. Forms and fields take this rather
/// than the whole result, so their code exists once and not once per server function.
pub fn action_error<S>(action: ServerAction<S>) -> Signal<Option<AppError>>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
{
    form_error(action, None)
}

/// [`action_error`] for a form that also works as a plain HTML post: until the action runs in
/// the browser, the error of the plain post (`posted`, see [`posted_error`]).
pub fn form_error<S>(action: ServerAction<S>, posted: Option<AppError>) -> Signal<Option<AppError>>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
{
    Signal::derive(move || {
        action.value().with(|result| match result {
            Some(result) => result.as_ref().err().cloned(),
            None => posted.clone(),
        })
    })
}

/// Why the plain HTML form post this browser just made to the server function at `path` failed,
/// if it did. The server hands it over once (`web::form_errors`); it never comes from the
/// address, so no link can put words on a page.
pub fn posted_error(path: &str) -> Option<AppError> {
    #[cfg(feature = "ssr")]
    return use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .extensions
                .get::<crate::web::form_errors::PostedError>()
                .cloned()
        })
        .filter(|posted| posted.path == path)
        .map(|posted| {
            leptos::server_fn::error::ServerFnUrlError::<AppError>::decode_err(&posted.error)
        });
    #[cfg(not(feature = "ssr"))]
    {
        let _ = path;
        None
    }
}

/// The part of `error` that belongs next to `field`.
pub fn field_error(error: Signal<Option<AppError>>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || error.with(|e| e.as_ref().and_then(|e| e.for_field(field))))
}

/// An admin page rendered for someone who is not an administrator answers 403 (its body says
/// why, through `PageRefusal`).
pub fn forbid_non_admins() {
    #[cfg(feature = "ssr")]
    if matches!(crate::web::context::admin(), Err(AppError::Forbidden)) {
        crate::web::context::set_status(http::StatusCode::FORBIDDEN);
    }
}

/// An admin page's content once `data` has loaded, drawn by `show`; while loading a line that
/// says so, and if it cannot load, why not (`forbidden` to someone who is no administrator).
#[component]
pub fn AdminContent<T, V>(
    data: Resource<Result<T, AppError>>,
    forbidden: &'static str,
    show: fn(T) -> V,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    V: IntoView + 'static,
{
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(loaded) => show(loaded).into_any(),
                    Err(error) => view! { <PageRefusal error forbidden /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Why a page shows nothing: `forbidden` for someone not allowed to see it, else the error's
/// own sentence.
#[component]
pub fn PageRefusal(error: AppError, forbidden: &'static str) -> impl IntoView {
    let message = match error {
        AppError::Forbidden => forbidden.to_owned(),
        other => other.to_string(),
    };
    view! { <div class="alert error" role="alert">{message}</div> }
}

/// The error that belongs to no field, shown above the form.
#[component]
pub fn FormAlert(error: Signal<Option<AppError>>) -> impl IntoView {
    let message = move || error.with(|e| e.as_ref().and_then(AppError::general));
    view! {
        <div class="alert error" role="alert" hidden=move || message().is_none()>
            {message}
        </div>
    }
}

/// The fields of a submitted form, read by name.
pub struct FormFields {
    #[cfg(feature = "hydrate")]
    data: web_sys::FormData,
}

impl FormFields {
    /// The field's text; empty when the form has no such field.
    pub fn text(&self, name: &str) -> String {
        #[cfg(feature = "hydrate")]
        return self.data.get(name).as_string().unwrap_or_default();
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = name;
            String::new()
        }
    }
}

/// A form that calls `action`'s server function. Without WebAssembly it is a plain HTML post to
/// the function's URL; once hydrated, `read` turns the submitted fields into the call. (Leptos's
/// `ActionForm` does the same through a query-string decoder that weighs ~100 KB of wasm.)
#[component]
pub fn ServerForm<S>(
    action: ServerAction<S>,
    read: fn(&FormFields) -> S,
    #[prop(optional)] node_ref: NodeRef<html::Form>,
    children: Children,
) -> impl IntoView
where
    S: ServerFn + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        #[cfg(feature = "hydrate")]
        if let Some(data) = node_ref
            .get_untracked()
            .and_then(|form| web_sys::FormData::new_with_form(&form).ok())
        {
            action.dispatch(read(&FormFields { data }));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (action, read);
    };
    view! {
        <form method="post" action=S::url() node_ref=node_ref on:submit=on_submit>
            {children()}
        </form>
    }
}
