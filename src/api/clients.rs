//! `/api/v1/admin/clients`: resource servers allowed to introspect tokens (SPEC §12, §17),
//! for administrators.

use crate::api::extract::{Admin, IdPath, JsonBody};
use crate::domain::events::Origin;
use crate::store::ClientRecord;
use crate::web::api_error::ErrorBody;
use crate::web::state::AppState;
use crate::web::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clients, create_client))
        .routes(routes!(delete_client))
}

#[derive(Serialize, ToSchema)]
pub struct Client {
    id: i64,
    name: String,
    /// The user name of HTTP Basic authentication at `POST /oauth/introspect`.
    #[schema(example = "patio_client_3kTq9ZpW1mXc7RbA")]
    client_id: String,
    #[serde(serialize_with = "crate::time::rfc3339")]
    created_at: DateTime<Utc>,
}

impl From<ClientRecord> for Client {
    fn from(client: ClientRecord) -> Client {
        Client {
            id: client.id,
            name: client.name,
            client_id: client.client_id,
            created_at: client.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ClientList {
    clients: Vec<Client>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    /// What the resource server is, for people: 1–100 characters.
    #[schema(min_length = 1, max_length = 100, example = "reporting API")]
    name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedClient {
    client: Client,
    /// The password of HTTP Basic authentication, shown this once.
    #[schema(example = "patio_cs_…")]
    client_secret: String,
}

/// Every registered introspection client (administrators only). Never a secret.
#[utoipa::path(get, path = "/api/v1/admin/clients", tag = "admin",
    responses((status = 200, body = ClientList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list_clients(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<ClientList>, ApiError> {
    let clients = state.clients().list().await?;
    Ok(Json(ClientList {
        clients: clients.into_iter().map(Client::from).collect(),
    }))
}

/// Registers a resource server; the answer is the only time its secret is shown.
#[utoipa::path(post, path = "/api/v1/admin/clients", tag = "admin", request_body = NewClient,
    responses((status = 201, body = CreatedClient), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "`invalid_name`", body = ErrorBody)))]
pub async fn create_client(
    State(state): State<AppState>,
    _: Admin,
    origin: Origin,
    JsonBody(request): JsonBody<NewClient>,
) -> Result<Response, ApiError> {
    let registered = state.clients().register(&request.name, &origin).await?;
    let body = CreatedClient {
        client: registered.client.into(),
        client_secret: registered.secret.into_exposed(),
    };
    Ok(crate::api::schema::no_store(
        (StatusCode::CREATED, Json(body)).into_response(),
    ))
}

/// Removes an introspection client: its secret stops working at once.
#[utoipa::path(delete, path = "/api/v1/admin/clients/{id}", tag = "admin",
    params(("id" = i64, Path, description = "The client's id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete_client(
    State(state): State<AppState>,
    _: Admin,
    IdPath(id): IdPath,
    origin: Origin,
) -> Result<StatusCode, ApiError> {
    state.clients().remove(id, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}
