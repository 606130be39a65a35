//! User Settings › Security (`/settings/security`): the caller's security log, newest first,
//! a page at a time. Rendered on the server; it needs no WebAssembly.

use crate::time::LocalTime;
use crate::web::page_error::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// An event as the page shows it. Never carries a secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub id: i64,
    pub kind: crate::domain::events::EventKind,
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub at: DateTime<Utc>,
    pub description: String,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    /// Who acted, when it was not the log's owner.
    pub actor: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventList {
    pub events: Vec<EventView>,
    /// The `before` of the next (older) page, if there is one.
    pub next_before: Option<i64>,
}

#[server(prefix = "/rpc", endpoint = "security_events")]
pub async fn security_events(before: Option<i64>) -> Result<EventList, AppError> {
    use crate::web::context;
    let caller = context::caller()?;
    let state = context::state();
    // Fifty to a page.
    let page = state.events().page(caller.user.id, before, 50).await?;
    Ok(EventList {
        events: page
            .events
            .into_iter()
            .map(|event| EventView {
                id: event.id,
                kind: event.kind,
                at: event.at,
                description: crate::events::service::describe(&event),
                client_ip: event.client_ip,
                user_agent: event.user_agent,
                actor: event.actor.map(|actor| actor.username),
            })
            .collect(),
        next_before: page.next_before,
    })
}

#[component]
pub fn SecurityPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let before: Option<i64> = query.with_untracked(|q| q.get("before")?.parse().ok());
    let events = Resource::new(move || before, security_events);
    view! {
        <Title text="Security" />
        <crate::pages::SettingsTabs current="Security" />
        <h1>"Security log"</h1>
        <p class="lead">
            "Everything that happened to your account and your tokens, newest first: sign-ins, "
            "password changes, tokens created, regenerated, revoked or refused, and the addresses "
            "they were used from. Events are kept for more than a year."
        </p>
        <Suspense fallback=|| view! { <p>"Loading your security log…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(list) => view! { <EventTable list older=before.is_some() /> }.into_any(),
                    Err(AppError::SignedOut) => view! {
                        <crate::pages::SignedOutNotice />
                    }.into_any(),
                    Err(error) => view! {
                        <div class="alert error" role="alert">{error.to_string()}</div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EventTable(list: EventList, older: bool) -> impl IntoView {
    if list.events.is_empty() {
        return view! {
            <div class="empty card">
                <h2>{if older { "No older events" } else { "Nothing yet" }}</h2>
                <p>"Events appear here as you sign in and use your tokens."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data events">
                <caption class="visually-hidden">"Your security log, newest first"</caption>
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Event"</th>
                        <th scope="col">"From"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.events.into_iter().map(|event| view! {
                        <tr data-event-kind=event.kind.as_str()>
                            <td data-label="When"><LocalTime at=event.at /></td>
                            <td data-label="Event">
                                <div>
                                    <span class="event-title">{event.kind.title()}</span>
                                    <span class="event-description">{event.description.clone()}</span>
                                    {event.actor.clone().map(|actor| view! {
                                        <span class="event-actor">{format!("By {actor}")}</span>
                                    })}
                                </div>
                            </td>
                            <td data-label="From">
                                <div>
                                    <span class="mono">{event.client_ip.clone().unwrap_or_else(|| "—".into())}</span>
                                    {event.user_agent.clone().map(|agent| view! {
                                        <span class="event-agent">{agent}</span>
                                    })}
                                </div>
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Security log pages">
            {older.then(|| view! { <a href="/settings/security">"Newest events"</a> })}
            {list.next_before.map(|before| view! {
                <a href=format!("/settings/security?before={before}")>"Older events"</a>
            })}
        </nav>
    }
    .into_any()
}
