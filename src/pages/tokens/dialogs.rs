//! The page's dialogs: native modal `<dialog>`s for the one-time reveal, regeneration and
//! deletion, and the focus handling they share.

use super::{DeleteToken, GeneratedToken, RegenerateToken};
use crate::pages::components::{action_error, FormAlert, ServerForm};
use leptos::html;
use leptos::prelude::*;

/// Opens or closes a native modal dialog to follow `open` (the browser then traps focus and
/// closes it on Esc).
pub(super) fn sync_dialog(dialog: NodeRef<html::Dialog>, open: Signal<bool>) {
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
pub(super) fn focus(id: &str) {
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

/// The one-time reveal's warning, in the dialog and on the plain page alike.
pub(super) const REVEAL_WARNING: &str =
    "Make sure to copy your token now. You won't be able to see it again.";

#[component]
pub(super) fn Reveal(
    /// The id of the heading, which labels the dialog around it.
    title_id: &'static str,
    new: Signal<Option<GeneratedToken>>,
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
        <h2 id=title_id>"Your new token"</h2>
        <p>"Token " <strong>{name}</strong> " is ready."</p>
        <div class="alert warning" role="alert">{REVEAL_WARNING}</div>
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
            // Closes the dialog around it natively; its close handler forgets the secret.
            <form method="dialog">
                <button type="submit" class="button">"Done"</button>
            </form>
        </div>
    }
}

#[component]
pub(super) fn DeleteDialog(
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

/// Confirms a regeneration, naming the token, then shows the new secret once.
#[component]
pub(super) fn RegenerateDialog(
    action: ServerAction<RegenerateToken>,
    target: RwSignal<Option<(i64, String)>>,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    sync_dialog(dialog, Signal::derive(move || target.get().is_some()));
    let error = action_error(action);
    let revealed = Memo::new(move |_| match action.value().get() {
        Some(Ok(new)) => Some(new),
        _ => None,
    });
    let name = move || target.with(|t| t.as_ref().map(|(_, n)| n.clone()).unwrap_or_default());
    let id = move || target.with(|t| t.as_ref().map(|(id, _)| id.to_string()).unwrap_or_default());
    view! {
        <dialog node_ref=dialog class="modal" aria-labelledby="regenerate-title"
            on:close=move |_| {
                target.set(None);
                action.value().set(None);
                focus("generate-token");
            }>
            {move || if revealed.with(Option::is_some) {
                view! {
                    <Reveal title_id="regenerate-title" new=Signal::derive(move || revealed.get()) />
                }.into_any()
            } else {
                view! {
                    <h2 id="regenerate-title">"Regenerate token"</h2>
                    <p>
                        {move || format!(
                            "Regenerate token ‘{}’? Its current secret stops working immediately. \
                             The new one keeps its name, access and allowlist, and the lifetime \
                             it had.",
                            name()
                        )}
                    </p>
                    <FormAlert error />
                    <ServerForm action read=|f| RegenerateToken { id: f.text("id").parse().unwrap_or_default() }>
                        <input type="hidden" name="id" value=id />
                        <div class="form-actions">
                            <button type="button" class="button secondary" autofocus
                                on:click=move |_| target.set(None)>
                                "Cancel"
                            </button>
                            <button type="submit" class="button" disabled=move || action.pending().get()>
                                "Regenerate"
                            </button>
                        </div>
                    </ServerForm>
                }.into_any()
            }}
        </dialog>
    }
}
