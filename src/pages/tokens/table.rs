//! The token table: one row per token, with its actions.

use super::TokenView;
use crate::pages::tokens::plain::action_path;
use crate::time::LocalTime;
use crate::tokens::rules::TokenStatus;
use leptos::prelude::*;

#[component]
pub(super) fn TokenTable(
    tokens: Vec<TokenView>,
    to_delete: RwSignal<Option<(i64, String)>>,
    to_regenerate: RwSignal<Option<(i64, String)>>,
) -> impl IntoView {
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
                        let regenerate_label = format!("Regenerate {}", token.name);
                        let target = (token.id, token.name.clone());
                        let regenerate_target = target.clone();
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
                                    // Drawn on the server (`activity::html`): no chart code ships.
                                    <div class="activity" inner_html=token.activity.clone()></div>
                                </td>
                                <td data-label="Status">
                                    <StatusBadge status=token.status />
                                    {token.revoked.clone().map(|why| view! {
                                        <span class="token-revoked">{why}</span>
                                    })}
                                </td>
                                <td class="actions">
                                    <a class="button small secondary" href=format!("/settings/tokens/{}/edit", token.id)
                                        aria-label=format!("Edit {}", token.name)>"Edit"</a>
                                    // Links to the plain confirmation pages until the
                                    // WebAssembly runs; then they open the dialogs.
                                    {token.regenerable.then(|| view! {
                                        <a class="button small secondary"
                                            href=action_path(token.id, "regenerate")
                                            aria-label=regenerate_label
                                            on:click=move |ev| {
                                                ev.prevent_default();
                                                to_regenerate.set(Some(regenerate_target.clone()));
                                            }>
                                            "Regenerate"
                                        </a>
                                    })}
                                    <a class="button small danger" href=action_path(token.id, "delete")
                                        aria-label=label
                                        on:click=move |ev| {
                                            ev.prevent_default();
                                            to_delete.set(Some(target.clone()));
                                        }>
                                        "Delete"
                                    </a>
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
