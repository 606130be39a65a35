//! Admin › Audit (`/admin/audit`, SPEC §14): every administrative action, newest first,
//! filtered by actor and action with a plain GET form, paged. Rendered on the server.

use super::{FilterForm, NextPage, UserFilter};
use crate::domain::audit::AuditAction;
use crate::pages::components::AdminContent;
use crate::time::LocalTime;
use crate::web::page_error::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub at: DateTime<Utc>,
    /// The administrator, or what acted without one (the command line, the intake, the policy).
    pub actor: String,
    pub action: AuditAction,
    /// The account and token acted on, and what else is known, in words.
    pub subject: String,
    pub detail: String,
    pub client_ip: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    pub rows: Vec<AuditRow>,
    pub next: Option<i64>,
    /// Administrators, for the actor filter: id and username.
    pub admins: Vec<(i64, String)>,
}

#[server(prefix = "/rpc", endpoint = "admin_audit")]
pub async fn audit_log(
    actor: Option<String>,
    action: Option<String>,
    before: Option<String>,
) -> Result<AuditView, AppError> {
    use crate::domain::accounts::Role;
    use crate::store::AuditFilter;
    use crate::web::context;
    context::admin()?;
    let state = context::state();
    let number = |text: Option<String>| text.and_then(|t| t.trim().parse::<i64>().ok());
    let filter = AuditFilter {
        actor_id: number(actor),
        action: action.as_deref().and_then(AuditAction::parse),
        before_id: number(before),
        limit: 50,
    };
    let page = crate::admin::policy::audit(&state.store, filter).await?;
    let rows = page
        .entries
        .into_iter()
        .map(|entry| AuditRow {
            id: entry.id,
            at: entry.at,
            actor: match (&entry.actor, &entry.user_agent) {
                (Some(actor), _) => actor.username.clone(),
                (None, Some(what)) => what.clone(),
                (None, None) => "Patio".into(),
            },
            action: entry.action,
            subject: [
                entry.user.map(|user| user.username),
                entry.token_name.map(|name| format!("token ‘{name}’")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
            detail: entry.detail.unwrap_or_default(),
            client_ip: entry.client_ip,
        })
        .collect();
    let admins = state
        .store
        .list_users()
        .await?
        .into_iter()
        .filter(|user| user.role == Role::Admin)
        .map(|user| (user.id, user.username))
        .collect();
    Ok(AuditView {
        rows,
        next: page.next,
        admins,
    })
}

#[component]
pub fn AdminAuditPage() -> impl IntoView {
    crate::pages::components::forbid_non_admins();
    let query = use_query_map();
    let get = move |name: &str| query.with_untracked(|q| q.get(name));
    let filters = (get("actor"), get("action"), get("before"));
    let page = Resource::new(
        move || filters.clone(),
        |(actor, action, before)| audit_log(actor, action, before),
    );
    view! {
        <Title text="Audit log" />
        <p class="eyebrow">"Admin"</p>
        <h1>"Audit log"</h1>
        <p class="lead">
            "Every administrative action, newest first: users created, deactivated or given "
            "another role, passwords reset, tokens revoked (by an administrator, as leaked or by "
            "the policy), clients and policy changes. Nothing here can be changed or deleted."
        </p>
        <AdminContent data=page forbidden="Only administrators can read the audit log." show=|view| view! { <AuditTable view /> } />
    }
}

#[component]
fn AuditTable(view: AuditView) -> impl IntoView {
    let query = use_query_map();
    let get = move |name: &str| query.with_untracked(|q| q.get(name)).unwrap_or_default();
    let (actor, action) = (get("actor"), get("action"));
    let next = view
        .next
        .map(|before| format!("/admin/audit?actor={actor}&action={action}&before={before}"));
    view! {
        <FilterForm action="/admin/audit">
            <UserFilter id="filter-actor" name="actor" label="Administrator" anyone="Anyone"
                users=view.admins selected=actor />
            <div class="field">
                <label for="filter-action">"Action"</label>
                <select id="filter-action" name="action">
                    <option value="">"Any"</option>
                    {AuditAction::ALL.into_iter().map(|each| {
                        let selected = action == each.as_str();
                        view! { <option value=each.as_str() selected=selected>{each.title()}</option> }
                    }).collect_view()}
                </select>
            </div>
        </FilterForm>
        {if view.rows.is_empty() {
            view! { <div class="empty card"><h2>"Nothing recorded"</h2></div> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="data audit">
                        <caption class="visually-hidden">"Administrative actions, newest first"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"When"</th>
                                <th scope="col">"Who"</th>
                                <th scope="col">"Action"</th>
                                <th scope="col">"On"</th>
                                <th scope="col">"Details"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {view.rows.into_iter().map(|row| view! {
                                <tr data-action=row.action.as_str()>
                                    <td data-label="When"><LocalTime at=row.at /></td>
                                    <td data-label="Who">
                                        {row.actor.clone()}
                                        {row.client_ip.clone().map(|ip| view! { <span class="token-access">"from " {ip}</span> })}
                                    </td>
                                    <td data-label="Action">{row.action.title()}</td>
                                    <td data-label="On">{row.subject.clone()}</td>
                                    <td data-label="Details">{row.detail.clone()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        <NextPage link=next />
    }
}
