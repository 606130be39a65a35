//! Extractors that turn a request into what handlers need, refusing in the API's own words.

use crate::domain::accounts::Role;
use crate::web::principal::Principal;
use crate::web::ApiError;
use crate::web::Caller;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// Any authenticated caller.
pub struct Authenticated(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .and_then(|Caller(caller)| caller.clone())
            .map(Authenticated)
            .ok_or(ApiError::Unauthorized)
    }
}

/// An administrator caller (checked against the user's current role).
pub struct Admin(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Authenticated(caller) = Authenticated::from_request_parts(parts, state).await?;
        if caller.user.role == Role::Admin {
            Ok(Admin(caller))
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

/// A JSON object body whose every rejection is a JSON `invalid_request` (or 413), never plain
/// text. Only an object will do: serde would also fill a struct from an array.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let value = match axum::Json::<serde_json::Value>::from_request(request, state).await {
            Ok(axum::Json(value)) => value,
            Err(JsonRejection::MissingJsonContentType(_)) => {
                return Err(ApiError::InvalidRequest(
                    "Send a JSON body with `Content-Type: application/json`.".into(),
                ))
            }
            Err(JsonRejection::BytesRejection(rejection))
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
            {
                return Err(ApiError::PayloadTooLarge)
            }
            Err(JsonRejection::JsonSyntaxError(_)) => {
                return Err(ApiError::InvalidRequest(
                    "The body is not valid JSON.".into(),
                ))
            }
            Err(other) => return Err(ApiError::InvalidRequest(other.body_text())),
        };
        if !value.is_object() {
            return Err(ApiError::InvalidRequest(
                "The body must be a JSON object.".into(),
            ));
        }
        T::deserialize(value).map(JsonBody).map_err(|error| {
            ApiError::InvalidRequest(format!(
                "The JSON body does not have the expected fields: {error}."
            ))
        })
    }
}

/// A JSON object body that may also be left out entirely (no body, no `Content-Type`).
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
        let headers = request.headers();
        let no_body = headers
            .get(CONTENT_LENGTH)
            .is_none_or(|length| length == "0")
            && !headers.contains_key(TRANSFER_ENCODING)
            && !headers.contains_key(CONTENT_TYPE);
        if no_body {
            return Ok(OptionalJsonBody(None));
        }
        // A JSON `null` says "nothing" as well as no body does.
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|_| ApiError::PayloadTooLarge)?;
        if serde_json::from_slice::<serde_json::Value>(&bytes).is_ok_and(|v| v.is_null()) {
            return Ok(OptionalJsonBody(None));
        }
        let request = Request::builder()
            .header(CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(bytes))
            .map_err(|_| ApiError::InvalidRequest("The body could not be read.".into()))?;
        let JsonBody(value) = JsonBody::from_request(request, state).await?;
        Ok(OptionalJsonBody(Some(value)))
    }
}

/// A numeric id in the path; anything else is a 404 (no such resource), not a 400.
pub struct IdPath(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(text) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::NotFound)?;
        text.parse().map(IdPath).map_err(|_| ApiError::NotFound)
    }
}
