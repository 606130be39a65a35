//! Admin › Tokens (`/admin/tokens`, SPEC §14): every user's tokens with their owner, status,
//! access, dates and last address, filtered by a plain GET form and paged; each live one can be
//! revoked with a plain form. Rendered on the server; it needs no WebAssembly.

use super::{FilterForm, NextPage, UserFilter};
use crate::pages::components::{posted_error, AdminContent, FormAlert};
use crate::time::LocalTime;
use crate::web::page_error::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryRow {
    pub id: i64,
    pub name: String,
    pub owner: String,
    pub status: String,
    pub live: bool,
    pub access: String,
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub expires_at: DateTime<Utc>,
    #[serde(with = "chrono::serde::ts_milliseconds_option")]
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_ip: Option<String>,
    pub exceeds_policy: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryView {
    pub rows: Vec<InventoryRow>,
    pub next: Option<i64>,
    /// Every user, for the owner filter: id and username.
    pub users: Vec<(i64, String)>,
}

/// The filters of the page's address, as typed: blank ones are left out.
#[server(prefix = "/rpc", endpoint = "admin_inventory")]
pub async fn inventory(
    user_id: Option<String>,
    status: Option<String>,
    expires_within_days: Option<String>,
    unused_for_days: Option<String>,
    before: Option<String>,
    sort: Option<String>,
) -> Result<InventoryView, AppError> {
    use crate::admin::inventory::{self, InventoryRequest};
    use crate::store::InventoryStatus;
    use crate::tokens::rules::TokenStatus;
    use crate::web::context;
    context::admin()?;
    let state = context::state();
    let number = |text: Option<String>| text.and_then(|t| t.trim().parse::<i64>().ok());
    let request = InventoryRequest {
        user_id: number(user_id),
        status: match status.as_deref() {
            Some("active") => Some(InventoryStatus::Active),
            Some("expired") => Some(InventoryStatus::Expired),
            Some("revoked") => Some(InventoryStatus::Revoked),
            _ => None,
        },
        expires_within_days: number(expires_within_days),
        unused_for_days: number(unused_for_days),
        before: number(before),
        sort: sort
            .as_deref()
            .and_then(crate::store::InventorySort::parse)
            .unwrap_or_default(),
        limit: Some(50),
    };
    let page = inventory::list(&state.store, state.clock.now(), &request).await?;
    let now = state.clock.now();
    let rows = page
        .entries
        .into_iter()
        .map(|entry| {
            let token = entry.token;
            let status = TokenStatus::of(token.expires_at, token.revoked.is_some(), now);
            InventoryRow {
                exceeds_policy: inventory::exceeds_policy(&token, &page.policy, now),
                id: token.id,
                name: token.name,
                owner: entry.owner.username,
                status: status.label().to_owned(),
                live: status.is_active(),
                access: token.access.label().to_owned(),
                created_at: token.created_at,
                expires_at: token.expires_at,
                last_used_at: token.last_used_at,
                last_ip: entry.last_ip,
            }
        })
        .collect();
    let users = state
        .store
        .list_users()
        .await?
        .into_iter()
        .map(|user| (user.id, user.username))
        .collect();
    Ok(InventoryView {
        rows,
        next: page.next,
        users,
    })
}

/// Revokes a token from the inventory; a plain post goes back to it.
#[server(prefix = "/rpc", endpoint = "admin_revoke_token")]
pub async fn revoke_token(id: i64, back: String) -> Result<(), AppError> {
    use crate::web::context;
    let admin = context::admin()?;
    context::state()
        .tokens()
        .revoke(admin.user.id, id, &context::origin())
        .await?;
    let back = crate::web::guard::safe_next(&back);
    let separator = if back.contains('?') { '&' } else { '?' };
    context::back_to_form(&format!("{back}{separator}revoked={id}"));
    Ok(())
}

#[component]
pub fn AdminTokensPage() -> impl IntoView {
    crate::pages::components::forbid_non_admins();
    let query = use_query_map();
    let get = move |name: &str| query.with_untracked(|q| q.get(name));
    let filters = (
        get("user_id"),
        get("status"),
        get("expires_within_days"),
        get("unused_for_days"),
        get("before"),
        get("sort"),
    );
    let page = Resource::new(
        move || filters.clone(),
        |(user_id, status, expires, unused, before, sort)| {
            inventory(user_id, status, expires, unused, before, sort)
        },
    );
    view! {
        <Title text="All tokens" />
        <p class="eyebrow">"Admin"</p>
        <h1>"All tokens"</h1>
        <AdminContent data=page forbidden="Only administrators can see every token." show=|view| view! { <Inventory view /> } />
    }
}

#[component]
fn Inventory(view: InventoryView) -> impl IntoView {
    let query = use_query_map();
    let get = move |name: &str| query.with_untracked(|q| q.get(name)).unwrap_or_default();
    let (user_id, status, sort) = (get("user_id"), get("status"), get("sort"));
    let revoke_error = Signal::stored(posted_error(RevokeToken::PATH));
    let revoked = query
        .with_untracked(|q| q.get("revoked"))
        .filter(|_| revoke_error.with_untracked(Option::is_none));
    // Where a revocation returns to: this page as filtered, without an earlier notice.
    let here = {
        let pairs: Vec<(String, String)> = [
            "user_id",
            "status",
            "expires_within_days",
            "unused_for_days",
            "sort",
            "before",
        ]
        .iter()
        .map(|name| (name.to_string(), get(name)))
        .filter(|(_, value)| !value.is_empty())
        .collect();
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if query.is_empty() {
            "/admin/tokens".to_owned()
        } else {
            format!("/admin/tokens?{}", query.join("&"))
        }
    };
    let next = view.next.map(|before| {
        let mut link = here.replace("&before=", "&_=").replace("?before=", "?_=");
        link.push(if link.contains('?') { '&' } else { '?' });
        format!("{link}before={before}")
    });
    let status_option = move |value: &'static str, label: &'static str| {
        let selected = status == value;
        view! { <option value=value selected=selected>{label}</option> }
    };
    view! {
        <FilterForm action="/admin/tokens">
            <UserFilter id="filter-user" name="user_id" label="Owner" anyone="Everyone"
                users=view.users selected=user_id />
            <div class="field">
                <label for="filter-status">"Status"</label>
                <select id="filter-status" name="status">
                    {status_option("", "Any")}
                    {status_option("active", "Active")}
                    {status_option("expired", "Expired")}
                    {status_option("revoked", "Revoked")}
                </select>
            </div>
            <div class="field">
                <label for="filter-expires">"Expires within (days)"</label>
                <input id="filter-expires" name="expires_within_days" type="number" min="0"
                    max="3650" value=get("expires_within_days") />
            </div>
            <div class="field">
                <label for="filter-unused">"Unused for (days)"</label>
                <input id="filter-unused" name="unused_for_days" type="number" min="0"
                    max="36500" value=get("unused_for_days") />
            </div>
            <div class="field">
                <label for="filter-sort">"Sort by"</label>
                <select id="filter-sort" name="sort">
                    <option value="newest" selected=sort.is_empty() || sort == "newest">"Newest first"</option>
                    <option value="expires" selected=sort == "expires">"Expiring soonest"</option>
                    <option value="last_used" selected=sort == "last_used">"Least recently used"</option>
                </select>
            </div>
        </FilterForm>
        <FormAlert error=revoke_error />
        {revoked.map(|id| view! {
            <div class="alert success" role="status">{format!("Token {id} is revoked.")}</div>
        })}
        {if view.rows.is_empty() {
            view! { <div class="empty card"><h2>"No tokens match"</h2></div> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="data">
                        <caption class="visually-hidden">"Every user's tokens, newest first"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Token"</th>
                                <th scope="col">"Owner"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Access"</th>
                                <th scope="col">"Created"</th>
                                <th scope="col">"Expires"</th>
                                <th scope="col">"Last used"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {view.rows.into_iter().map(|row| {
                                let label = format!("Revoke {} of {}", row.name, row.owner);
                                let back = here.clone();
                                view! {
                                    <tr>
                                        <td data-label="Token">{row.name.clone()}</td>
                                        <td data-label="Owner">{row.owner.clone()}</td>
                                        <td data-label="Status">
                                            {row.status.clone()}
                                            {row.exceeds_policy.then(|| view! {
                                                <span class="badge expiring">"Exceeds policy"</span>
                                            })}
                                        </td>
                                        <td data-label="Access">{row.access.clone()}</td>
                                        <td data-label="Created"><LocalTime at=row.created_at /></td>
                                        <td data-label="Expires"><LocalTime at=row.expires_at /></td>
                                        <td data-label="Last used">
                                            {match row.last_used_at {
                                                Some(at) => view! { <LocalTime at /> }.into_any(),
                                                None => view! { <span class="muted">"Never"</span> }.into_any(),
                                            }}
                                            {row.last_ip.clone().map(|ip| view! { <span class="token-access">"from " {ip}</span> })}
                                        </td>
                                        <td class="actions">
                                            {row.live.then(|| view! {
                                                <form method="post" action=RevokeToken::url()>
                                                    <input type="hidden" name="id" value=row.id.to_string() />
                                                    <input type="hidden" name="back" value=back />
                                                    <button type="submit" class="button small danger"
                                                        aria-label=label>"Revoke"</button>
                                                </form>
                                            })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        <NextPage link=next />
    }
}
