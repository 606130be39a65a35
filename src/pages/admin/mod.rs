//! Admin's pages (SPEC §14): the token inventory, Overview, the policy and the audit log, and
//! the pieces their filtered, paged lists share.

pub mod audit;
pub mod inventory;
pub mod overview;
pub mod policy;

use leptos::prelude::*;

/// A plain GET form of filters over a list at `action`, with Clear and Filter.
#[component]
fn FilterForm(action: &'static str, children: Children) -> impl IntoView {
    view! {
        <form method="get" action=action class="card filters">
            <div class="grid-4">{children()}</div>
            <div class="form-actions">
                <a class="button secondary" href=action>"Clear"</a>
                <button type="submit" class="button">"Filter"</button>
            </div>
        </form>
    }
}

/// A filter field choosing one user (id and username), or anyone.
#[component]
fn UserFilter(
    id: &'static str,
    name: &'static str,
    label: &'static str,
    anyone: &'static str,
    users: Vec<(i64, String)>,
    selected: String,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id name=name>
                <option value="">{anyone}</option>
                {users.into_iter().map(|(user_id, username)| {
                    let value = user_id.to_string();
                    let chosen = selected == value;
                    view! { <option value=value selected=chosen>{username}</option> }
                }).collect_view()}
            </select>
        </div>
    }
}

/// The link to a list's next page, when there is one.
#[component]
fn NextPage(link: Option<String>) -> impl IntoView {
    link.map(|link| {
        view! { <p class="pager"><a class="button secondary" href=link>"Next page"</a></p> }
    })
}
