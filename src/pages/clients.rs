//! Admin › Clients (`/admin/clients`): the resource servers allowed to introspect tokens. An
//! administrator registers one by name, copies its secret from the one-time reveal, and removes
//! it (a plain form) when it is no longer needed.

use crate::pages::components::{field_error, posted_error, AdminContent, FormAlert, TextField};
use crate::time::LocalTime;
use crate::web::page_error::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
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

/// A registration's answer: the only one that carries the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registered {
    pub client: ClientRow,
    pub secret: String,
}

#[cfg(feature = "ssr")]
async fn all_clients() -> Result<Vec<ClientRow>, AppError> {
    let state = crate::web::context::state();
    Ok(state
        .clients()
        .list()
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
    crate::web::context::admin()?;
    all_clients().await
}

#[server(prefix = "/rpc", endpoint = "admin_remove_client")]
pub async fn remove_client(id: i64) -> Result<Vec<ClientRow>, AppError> {
    use crate::web::context;
    context::admin()?;
    context::state()
        .clients()
        .remove(id, &context::origin())
        .await?;
    context::back_to_form("/admin/clients");
    all_clients().await
}

#[component]
pub fn AdminClientsPage() -> impl IntoView {
    crate::pages::components::forbid_non_admins();
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
        <AdminContent data=clients forbidden="Only administrators can manage clients." show=|clients| view! {
            <ClientTable clients />
            <RegisterClientForm />
        } />
    }
}

/// The registered clients, each with a plain form to remove it.
#[component]
fn ClientTable(clients: Vec<ClientRow>) -> impl IntoView {
    let remove_error = Signal::stored(posted_error(RemoveClient::PATH));
    view! {
        <FormAlert error=remove_error />
        {if clients.is_empty() {
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
                            {clients.into_iter().map(|client| {
                                let label = format!("Remove {}", client.name);
                                view! {
                                    <tr>
                                        <td data-label="Name">{client.name.clone()}</td>
                                        <td data-label="Client id"><code>{client.client_id.clone()}</code></td>
                                        <td data-label="Registered"><LocalTime at=client.created_at /></td>
                                        <td class="actions">
                                            <form method="post" action=RemoveClient::url()>
                                                <input type="hidden" name="id" value=client.id.to_string() />
                                                <button type="submit" class="button small danger"
                                                    aria-label=label>"Remove"</button>
                                            </form>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
    }
}

/// Registering a client: a plain form posted to this page's own address; the answer to the post
/// shows the new secret, once (see `register_client_page`). It needs no WebAssembly.
#[component]
fn RegisterClientForm() -> impl IntoView {
    let posted = use_context::<RegistrationOutcome>();
    let error = Signal::stored(posted.as_ref().and_then(|outcome| outcome.0.clone().err()));
    let registered = posted.and_then(|outcome| outcome.0.ok());
    view! {
        {registered.map(|registered| view! {
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
                <a class="button secondary" href=CLIENTS_PATH>"Done"</a>
            </section>
        })}
        <section class="card" aria-labelledby="new-client-heading">
            <h2 id="new-client-heading">"Register a client"</h2>
            <FormAlert error />
            <form method="post" action=CLIENTS_PATH>
                <TextField label="Name" name="name" required=true maxlength=100 autocomplete="off"
                    help="What the resource server is, such as “reporting API”."
                    error=field_error(error, "name") />
                <div class="form-actions">
                    <button type="submit" class="button">"Register client"</button>
                </div>
            </form>
        </section>
    }
}

pub const CLIENTS_PATH: &str = "/admin/clients";

/// What the registration form's post came to, for the page rendered as its answer.
#[derive(Clone, Debug)]
pub struct RegistrationOutcome(pub Result<Registered, AppError>);

/// `POST /admin/clients`, the registration form: registers the client and answers with the page
/// itself, showing the secret once. The secret is in this answer only — never in an address, a
/// redirect or a cookie — and the answer is never stored (`no-store`).
#[cfg(feature = "ssr")]
pub async fn register_client_page(
    axum::extract::State(state): axum::extract::State<crate::web::state::AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use crate::pages::form_answer;
    let (parts, body) = request.into_parts();
    let outcome = async {
        let caller = form_answer::caller(&parts)?;
        if caller.user.role != crate::domain::accounts::Role::Admin {
            return Err(AppError::Forbidden);
        }
        let fields = form_answer::fields(body).await?;
        let name = fields.get("name").map_or("", String::as_str);
        let registered = state
            .clients()
            .register(name, &crate::web::origin_of(&parts))
            .await?;
        Ok(Registered {
            client: ClientRow {
                id: registered.client.id,
                name: registered.client.name,
                client_id: registered.client.client_id,
                created_at: registered.client.created_at,
            },
            secret: registered.secret.into_exposed(),
        })
    }
    .await;
    form_answer::render(state, parts, RegistrationOutcome(outcome)).await
}

/// The registration form's plain POST (no WebAssembly), answered with the page and the secret.
#[cfg(feature = "ssr")]
pub fn routes() -> axum::Router<crate::web::state::AppState> {
    axum::Router::new().route(CLIENTS_PATH, axum::routing::post(register_client_page))
}
