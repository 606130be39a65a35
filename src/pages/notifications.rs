//! User Settings › Notifications (`/settings/notifications`, SPEC §11): the e-mail address and
//! its verification, the webhook (its secret shown once), the calendar feed (its address shown
//! once), a test event, and the last 20 deliveries. Plain forms rendered on the server.

use crate::pages::components::{field_error, posted_error, FormAlert, TextField};
use crate::time::LocalTime;
use crate::web::page_error::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

pub const NOTIFICATIONS_PATH: &str = "/settings/notifications";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: i64,
    pub channel: String,
    pub kind: String,
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub created_at: DateTime<Utc>,
    /// "Sent", "Failed" or "Retrying", with the last answer.
    pub state: String,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub mail_on: bool,
    pub email: Option<String>,
    pub email_verified: bool,
    pub webhook_url: Option<String>,
    pub has_calendar_feed: bool,
    pub deliveries: Vec<DeliveryView>,
}

/// What a plain post to this page came to: a secret to show once, or why not.
#[derive(Clone, Debug)]
pub enum NotifyOutcome {
    Webhook(Result<String, AppError>),
    CalendarFeed(Result<String, AppError>),
}

#[server(prefix = "/rpc", endpoint = "notify_settings")]
pub async fn notification_settings() -> Result<SettingsView, AppError> {
    use crate::web::context;
    let caller = context::caller()?;
    let state = context::state();
    let settings = state.notifications().settings(caller.user.id).await?;
    let deliveries = state
        .notifications()
        .deliveries(caller.user.id, None)
        .await?
        .into_iter()
        .map(|d| DeliveryView {
            id: d.id,
            channel: d.channel,
            kind: d.kind,
            created_at: d.created_at,
            state: match (d.sent_at, d.failed_at) {
                (Some(_), _) => "Sent".into(),
                (_, Some(_)) => "Failed".into(),
                _ if d.attempts == 0 => "Queued".into(),
                _ => format!("Retrying (attempt {})", d.attempts),
            },
            detail: d.last_status.unwrap_or_default(),
        })
        .collect();
    Ok(SettingsView {
        mail_on: state.mailer.is_some(),
        email: settings.email,
        email_verified: settings.email_verified,
        webhook_url: settings.webhook.map(|hook| hook.url),
        has_calendar_feed: settings.has_calendar_feed,
        deliveries,
    })
}

#[server(prefix = "/rpc", endpoint = "notify_set_email")]
pub async fn set_email(email: String) -> Result<(), AppError> {
    use crate::web::context;
    let caller = context::caller()?;
    context::state()
        .notifications()
        .set_email(caller.user.id, &email)
        .await?;
    context::back_to_form(&format!("{NOTIFICATIONS_PATH}?saved=email"));
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "notify_remove_webhook")]
pub async fn remove_webhook() -> Result<(), AppError> {
    use crate::web::context;
    let caller = context::caller()?;
    context::state()
        .notifications()
        .remove_webhook(caller.user.id)
        .await?;
    context::back_to_form(&format!("{NOTIFICATIONS_PATH}?saved=webhook_removed"));
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "notify_send_test")]
pub async fn send_test() -> Result<u64, AppError> {
    use crate::web::context;
    let caller = context::caller()?;
    let queued = context::state()
        .notifications()
        .send_test(caller.user.id)
        .await?;
    context::back_to_form(&format!("{NOTIFICATIONS_PATH}?saved=test"));
    Ok(queued)
}

#[server(prefix = "/rpc", endpoint = "notify_remove_feed")]
pub async fn remove_feed() -> Result<(), AppError> {
    use crate::web::context;
    let caller = context::caller()?;
    context::state()
        .notifications()
        .remove_calendar_feed(caller.user.id)
        .await?;
    context::back_to_form(&format!("{NOTIFICATIONS_PATH}?saved=feed_removed"));
    Ok(())
}

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let notice = query.with_untracked(|q| q.get("saved").or_else(|| q.get("verified")));
    let settings = Resource::new(|| (), |_| notification_settings());
    let notice = notice.and_then(|what| match what.as_str() {
        "email" => Some("Saved. Follow the link in the mail we sent to verify the address."),
        "webhook_removed" => Some("The webhook is removed."),
        "test" => Some("A test event is on its way to your address and webhook."),
        "feed_removed" => Some("The calendar feed is stopped."),
        "1" => Some("Your e-mail address is verified."),
        "0" => None,
        _ => None,
    });
    let failed_link = query.with_untracked(|q| q.get("verified").as_deref() == Some("0"));
    view! {
        <Title text="Notifications" />
        <crate::pages::SettingsTabs current="Notifications" />
        <h1>"Notifications"</h1>
        <p class="lead">
            "Reminders 7 days and 1 day before a token expires and when it has expired, and "
            "alerts when one is used from a new address, revoked by someone else, or your "
            "password changes — by e-mail, to a webhook, or both."
        </p>
        {notice.map(|text| view! { <div class="alert success" role="status">{text}</div> })}
        {failed_link.then(|| view! {
            <div class="alert error" role="alert">
                "That verification link is used up or has expired. Save your address again for a new one."
            </div>
        })}
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(view) => view! { <Sections view /> }.into_any(),
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
fn Sections(view: SettingsView) -> impl IntoView {
    let posted = use_context::<NotifyOutcome>();
    let (webhook, feed) = match posted {
        Some(NotifyOutcome::Webhook(result)) => (Some(result), None),
        Some(NotifyOutcome::CalendarFeed(result)) => (None, Some(result)),
        None => (None, None),
    };
    let webhook_error = Signal::stored(webhook.clone().and_then(Result::err));
    let email_error = Signal::stored(posted_error(SetEmail::PATH));
    let status = match (&view.email, view.email_verified) {
        (None, _) => None,
        (Some(_), true) => Some(view! { <span class="badge active">"Verified"</span> }.into_any()),
        (Some(_), false) => Some(
            view! { <span class="badge expiring">"Waiting for verification"</span> }.into_any(),
        ),
    };
    view! {
        <section class="card" aria-labelledby="email-heading">
            <h2 id="email-heading">"E-mail " {status}</h2>
            {(!view.mail_on).then(|| view! {
                <p class="alert warning">
                    "Mail is off on this Patio: whoever runs it has not set PATIO_SMTP_URL and "
                    "PATIO_MAIL_FROM. Webhooks and the calendar feed still work."
                </p>
            })}
            <FormAlert error=email_error />
            <form method="post" action=SetEmail::url()>
                <TextField label="E-mail address" name="email" kind="email"
                    value=view.email.clone().unwrap_or_default() autocomplete="email"
                    help="Leave it empty to stop mail. A new address gets a link to verify it first."
                    error=field_error(email_error, "email") />
                <div class="form-actions">
                    <button type="submit" class="button">"Save address"</button>
                </div>
            </form>
        </section>
        <section class="card" aria-labelledby="webhook-heading">
            <h2 id="webhook-heading">"Webhook"</h2>
            {webhook.and_then(Result::ok).map(|secret| view! {
                <div class="reveal">
                    <p class="alert warning">
                        "Copy the signing secret now. You won't be able to see it again."
                    </p>
                    <p><code id="webhook-secret" class="secret">{secret}</code></p>
                </div>
            })}
            <p class="help">
                "Each event is a JSON POST signed with "
                <code>"Patio-Signature: t=<unix time>,v1=<HMAC-SHA256 of \"t.body\">"</code>
                ", retried for 24 hours until your endpoint answers 2xx."
            </p>
            <FormAlert error=webhook_error />
            <form method="post" action=NOTIFICATIONS_PATH>
                <input type="hidden" name="action" value="webhook" />
                <TextField label="Endpoint URL" name="url" kind="url"
                    value=view.webhook_url.clone().unwrap_or_default() autocomplete="off"
                    help="http:// or https://; saving gives it a new signing secret."
                    error=field_error(webhook_error, "url") />
                <div class="form-actions">
                    <button type="submit" class="button">"Save webhook"</button>
                </div>
            </form>
            {view.webhook_url.is_some().then(|| view! {
                <form method="post" action=RemoveWebhook::url() class="inline-form">
                    <button type="submit" class="button secondary">"Remove webhook"</button>
                </form>
            })}
            {(view.webhook_url.is_some() || view.email_verified).then(|| view! {
                <form method="post" action=SendTest::url() class="inline-form">
                    <button type="submit" class="button secondary">"Send test event"</button>
                </form>
            })}
        </section>
        <section class="card" aria-labelledby="calendar-heading">
            <h2 id="calendar-heading">"Calendar"</h2>
            <p>
                "Every active token's expiry as an all-day event: "
                <a href="/settings/tokens.ics">"download tokens.ics"</a>
                ", or subscribe a calendar app to a secret feed address."
            </p>
            {feed.map(|result| match result {
                Ok(address) => view! {
                    <div class="reveal">
                        <p class="alert warning">"Copy the feed address now. You won't be able to see it again."</p>
                        <p><code id="calendar-feed" class="secret">{address}</code></p>
                    </div>
                }.into_any(),
                Err(error) => view! { <div class="alert error" role="alert">{error.to_string()}</div> }.into_any(),
            })}
            <form method="post" action=NOTIFICATIONS_PATH class="inline-form">
                <input type="hidden" name="action" value="calendar" />
                <button type="submit" class="button">
                    {if view.has_calendar_feed { "Reset the feed address" } else { "Create a feed address" }}
                </button>
            </form>
            {view.has_calendar_feed.then(|| view! {
                <form method="post" action=RemoveFeed::url() class="inline-form">
                    <button type="submit" class="button secondary">"Stop the feed"</button>
                </form>
            })}
        </section>
        <section class="card" aria-labelledby="deliveries-heading">
            <h2 id="deliveries-heading">"Recent deliveries"</h2>
            {if view.deliveries.is_empty() {
                view! { <p class="muted">"Nothing sent yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="data deliveries">
                            <thead>
                                <tr>
                                    <th scope="col">"Queued"</th>
                                    <th scope="col">"To"</th>
                                    <th scope="col">"Event"</th>
                                    <th scope="col">"Status"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {view.deliveries.into_iter().map(|d| view! {
                                    <tr>
                                        <td data-label="Queued"><LocalTime at=d.created_at /></td>
                                        <td data-label="To">{if d.channel == "mail" { "E-mail" } else { "Webhook" }}</td>
                                        <td data-label="Event"><code>{d.kind.clone()}</code></td>
                                        <td data-label="Status">
                                            <div>
                                                <span class="event-title">{d.state.clone()}</span>
                                                <span class="event-description">{d.detail.clone()}</span>
                                            </div>
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}
