//! Admin › Clients (`/admin/clients`): the resource servers allowed to introspect tokens. An
//! administrator registers one by name, copies its secret from the one-time reveal, and removes
//! it when it is no longer needed.

use crate::components::{action_error, field_error, FormAlert, ServerForm, TextField};
use crate::errors::AppError;
use crate::time::LocalTime;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRow {
    pub id: i64,
    pub name: String,
    pub client_id: String,
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub created_at: DateTime<Utc>,
}

/// A registration's answer: the only one that carries the secret, and the list as it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registered {
    pub client: ClientRow,
    pub secret: String,
    pub clients: Vec<ClientRow>,
}

#[cfg(feature = "ssr")]
async fn all_clients() -> Result<Vec<ClientRow>, AppError> {
    let state = crate::accounts::pages::on_server::state();
    Ok(super::clients::list(&state)
        .await?
        .into_iter()
        .map(|client| ClientRow {
            id: client.id,
            name: client.name,
            client_id: client.client_id,
            created_at: client.created_at,
        })
        .collect())
}

#[server(prefix = "/rpc", endpoint = "admin_list_clients")]
pub async fn list_clients() -> Result<Vec<ClientRow>, AppError> {
    crate::accounts::pages::on_server::admin()?;
    all_clients().await
}

#[server(prefix = "/rpc", endpoint = "admin_register_client")]
pub async fn register_client(name: String) -> Result<Registered, AppError> {
    use crate::accounts::pages::on_server;
    on_server::admin()?;
    // Without WebAssembly the answer would be a redirect and the secret lost.
    if on_server::is_plain_form_post() {
        return Err(AppError::Refused(
            "Registering a client needs JavaScript, so that its secret can be shown to you once."
                .into(),
        ));
    }
    let registered = super::clients::register(&on_server::state(), &name).await?;
    on_server::set_header(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    Ok(Registered {
        client: ClientRow {
            id: registered.client.id,
            name: registered.client.name,
            client_id: registered.client.client_id,
            created_at: registered.client.created_at,
        },
        secret: registered.secret.into_exposed(),
        clients: all_clients().await?,
    })
}

#[server(prefix = "/rpc", endpoint = "admin_remove_client")]
pub async fn remove_client(id: i64) -> Result<Vec<ClientRow>, AppError> {
    use crate::accounts::pages::on_server;
    on_server::admin()?;
    super::clients::remove(&on_server::state(), id).await?;
    on_server::back_to_form("/admin/clients");
    all_clients().await
}

#[component]
pub fn AdminClientsPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if matches!(
        crate::accounts::pages::on_server::admin(),
        Err(AppError::Forbidden)
    ) {
        crate::accounts::pages::on_server::set_status(http::StatusCode::FORBIDDEN);
    }
    let clients = Resource::new(|| (), |_| list_clients());
    view! {
        <Title text="Clients" />
        <p class="eyebrow">"Admin"</p>
        <h1>"Introspection clients"</h1>
        <p class="lead">
            "Resource servers registered here may ask " <code>"POST /oauth/introspect"</code>
            " whether a token is active and whose it is (RFC 7662), authenticating with their "
            "client id and secret as HTTP Basic."
        </p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match clients.await {
                    Ok(clients) => view! { <ClientManager initial=clients /> }.into_any(),
                    Err(AppError::Forbidden) => view! {
                        <div class="alert error" role="alert">
                            "Only administrators can manage clients."
                        </div>
                    }.into_any(),
                    Err(error) => view! {
                        <div class="alert error" role="alert">{error.to_string()}</div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[island]
fn ClientManager(initial: Vec<ClientRow>) -> impl IntoView {
    let register = ServerAction::<RegisterClient>::new();
    let register_error = action_error(register);
    let remove = ServerAction::<RemoveClient>::new();
    let remove_error = action_error(remove);
    let clients = RwSignal::new(initial);
    Effect::new(move |_| {
        if let Some(Ok(registered)) = register.value().get() {
            clients.set(registered.clients);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(now)) = remove.value().get() {
            clients.set(now);
        }
    });
    let revealed = move || {
        register
            .value()
            .with(|r| r.as_ref().and_then(|r| r.as_ref().ok()).cloned())
    };
    view! {
        <FormAlert error=remove_error />
        {move || revealed().map(|registered| view! {
            <section class="card reveal" aria-labelledby="client-secret-heading">
                <h2 id="client-secret-heading">{format!("{} is registered", registered.client.name)}</h2>
                <p class="alert warning">
                    "Make sure to copy the client secret now. You won't be able to see it again."
                </p>
                <dl class="pairs">
                    <dt>"Client id"</dt>
                    <dd><code id="client-id">{registered.client.client_id.clone()}</code></dd>
                    <dt>"Client secret"</dt>
                    <dd><code id="client-secret" class="secret">{registered.secret.clone()}</code></dd>
                </dl>
                <button type="button" class="button secondary"
                    on:click=move |_| register.value().set(None)>"Done"</button>
            </section>
        })}
        {move || {
            let list = clients.get();
            if list.is_empty() {
                view! {
                    <div class="empty card">
                        <h2>"No clients yet"</h2>
                        <p>"Register a resource server to let it introspect tokens."</p>
                    </div>
                }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="data">
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Client id"</th>
                                    <th scope="col">"Registered"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {list.into_iter().map(|client| {
                                    let label = format!("Remove {}", client.name);
                                    view! {
                                        <tr>
                                            <td data-label="Name">{client.name.clone()}</td>
                                            <td data-label="Client id"><code>{client.client_id.clone()}</code></td>
                                            <td data-label="Registered"><LocalTime at=client.created_at /></td>
                                            <td class="actions">
                                                <ServerForm action=remove read=|f| RemoveClient {
                                                    id: f.text("id").parse().unwrap_or_default(),
                                                }>
                                                    <input type="hidden" name="id" value=client.id.to_string() />
                                                    <button type="submit" class="button small danger"
                                                        aria-label=label>"Remove"</button>
                                                </ServerForm>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }
        }}
        <section class="card" aria-labelledby="new-client-heading">
            <h2 id="new-client-heading">"Register a client"</h2>
            <FormAlert error=register_error />
            <ServerForm action=register read=|f| RegisterClient { name: f.text("name") }>
                <TextField label="Name" name="name" required=true maxlength=100 autocomplete="off"
                    help="What the resource server is, such as “reporting API”."
                    error=field_error(register_error, "name") />
                <div class="form-actions">
                    <button type="submit" class="button">"Register client"</button>
                </div>
            </ServerForm>
        </section>
    }
}
