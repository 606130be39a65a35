//! The REST API (SPEC §5). Every route authorizes from the one `Principal` the guard resolved
//! (`web::guard`), whichever credential it came from, and calls the same domain
//! services as the pages. The OpenAPI document is generated from these handlers, so it cannot
//! drift from the router.

mod admin_policy;
mod admin_tokens;
mod clients;
pub mod connect;
mod events;
mod extract;
mod health;
pub mod introspect;
mod leaks;
mod me;
pub mod schema;
pub mod tokens;
mod users;
pub mod verify;
mod webhook;

pub use crate::web::ApiError;

use crate::web::state::AppState;
use axum::routing::any;
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Patio",
        description = "Personal access tokens. Authenticate with `Authorization: Bearer <token>` \
                       (a personal access token or a password-grant access token) or, from \
                       Patio's own pages, the session cookie."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags((name = "tokens"), (name = "users"), (name = "notifications"), (name = "admin"), (name = "leaks"), (name = "health"))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // GitLab's Token Revocation API: the pre-shared `PATIO_REVOCATION_TOKEN`, sent as the
        // whole `Authorization` value.
        components.add_security_scheme(
            "gitlab",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Header(
                utoipa::openapi::security::ApiKeyValue::new("Authorization"),
            )),
        );
    }
}

fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(me::router())
        .merge(webhook::router())
        .merge(events::router())
        .merge(tokens::router())
        .merge(users::router())
        .merge(clients::router())
        .merge(leaks::router())
        .merge(admin_tokens::router())
        .merge(admin_policy::router())
}

/// The OpenAPI 3 document of every route below.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().into_openapi()
}

/// The API routes, the document at `/api/v1/openapi.json`, and JSON answers for unknown
/// routes and wrong methods under `/api/`.
pub fn router() -> Router<AppState> {
    let (router, document) = documented().split_for_parts();
    let document = std::sync::Arc::new(document);
    router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let document = document.clone();
                async move { axum::Json(document.as_ref().clone()) }
            }),
        )
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .route("/api", any(|| async { ApiError::NoSuchRoute }))
        .route("/api/{*rest}", any(|| async { ApiError::NoSuchRoute }))
}

/// The body limit answers before any handler runs. Its refusal closes the connection, because
/// the unread rest of the body would otherwise be taken for the next request (and a client may
/// already be reusing the connection); under `/api/` it is the API's JSON error too.
pub async fn refuse_oversized_bodies(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE {
        return response;
    }
    if api {
        response = ApiError::PayloadTooLarge.into_response();
    }
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
