//! The error type of the REST boundary (SPEC §5): `{"error": code, "message": sentence}` with
//! the matching status, and RFC 6750 `WWW-Authenticate` on 401s. Internals are logged, never
//! sent.

use crate::db::Outage;
use crate::domain::problem::{Answer, Kind, Problem};
use crate::web::principal::UseRefused;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error answer, as the OpenAPI document describes it.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code: `invalid_request`, `invalid_name`, `duplicate_name`, `invalid_expiration`,
    /// `invalid_email`, `mail_off`, `insufficient_scope`,
    /// `address_not_allowed`, `token_limit_reached`, `username_taken`, `last_admin`,
    /// `unauthorized`, `forbidden`, `not_found`, `rate_limited`, `unavailable`.
    error: String,
    /// A sentence for people.
    message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// No credential at all.
    #[error("Authentication is required. Send an access token or a personal access token as `Authorization: Bearer <token>`.")]
    Unauthorized,
    /// A Bearer credential that is malformed, unknown, expired or revoked.
    #[error("The token is invalid, expired or revoked.")]
    InvalidToken,
    #[error("You do not have access to this.")]
    Forbidden,
    /// The credential is valid but its access level or allowlist does not cover the request.
    #[error("{0}")]
    UseRefused(UseRefused),
    #[error("Cross-site request refused: this request must come from Patio's own pages.")]
    CrossSite,
    #[error("Nothing was found at this address.")]
    NotFound,
    #[error("There is no such API route. The routes are listed in /api/v1/openapi.json.")]
    NoSuchRoute,
    #[error("This method is not allowed here.")]
    MethodNotAllowed,
    #[error("The request body is larger than 64 KiB.")]
    PayloadTooLarge,
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    #[error("{}", .0.message())]
    Unavailable(Outage),
    /// A domain error, answered as it says (`domain::problem`).
    #[error("{}", .0.sentence)]
    Answered(Answer),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        let kind = match self {
            ApiError::Unauthorized | ApiError::InvalidToken => return StatusCode::UNAUTHORIZED,
            ApiError::MethodNotAllowed => return StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => return StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::InvalidRequest(_) => Kind::Invalid,
            ApiError::Unprocessable { .. } => Kind::Unprocessable,
            ApiError::Forbidden | ApiError::CrossSite | ApiError::UseRefused(_) => Kind::Forbidden,
            ApiError::NotFound | ApiError::NoSuchRoute => Kind::NotFound,
            ApiError::RateLimited {
                retry_after_secs, ..
            } => Kind::RateLimited {
                retry_after_secs: *retry_after_secs,
            },
            ApiError::Unavailable(_) => Kind::Unavailable,
            ApiError::Answered(answer) => answer.kind,
        };
        crate::web::status(kind)
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidRequest(_)
            | ApiError::PayloadTooLarge
            | ApiError::MethodNotAllowed => "invalid_request",
            ApiError::Unprocessable { code, .. } => code,
            ApiError::Unauthorized | ApiError::InvalidToken => "unauthorized",
            ApiError::Forbidden | ApiError::CrossSite => "forbidden",
            ApiError::UseRefused(UseRefused::InsufficientScope) => "insufficient_scope",
            ApiError::UseRefused(UseRefused::AddressNotAllowed(_)) => "address_not_allowed",
            ApiError::NotFound | ApiError::NoSuchRoute => "not_found",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Answered(answer) => answer.code,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.code(), "message": self.to_string() });
        let mut response = (self.status(), Json(body)).into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthorized => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"patio\""),
                );
            }
            ApiError::InvalidToken => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"patio\", error=\"invalid_token\""),
                );
            }
            ApiError::UseRefused(UseRefused::InsufficientScope) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        "Bearer realm=\"patio\", error=\"insufficient_scope\"",
                    ),
                );
            }
            ApiError::RateLimited {
                retry_after_secs, ..
            }
            | ApiError::Answered(Answer {
                kind: Kind::RateLimited { retry_after_secs },
                ..
            }) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

/// A domain error, answered as it says; an outage is logged here. Whatever was not found,
/// the API says so in one sentence, as for an address that names nothing.
impl<E: Problem> From<E> for ApiError {
    fn from(error: E) -> ApiError {
        let answer = error.answer();
        match answer.kind {
            Kind::NotFound => return ApiError::NotFound,
            Kind::Unavailable => tracing::error!(%error, "store failure"),
            _ => {}
        }
        ApiError::Answered(answer)
    }
}

impl From<UseRefused> for ApiError {
    fn from(refused: UseRefused) -> ApiError {
        ApiError::UseRefused(refused)
    }
}
