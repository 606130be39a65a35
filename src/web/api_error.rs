//! The error type of the REST boundary (SPEC §5): `{"error": code, "message": sentence}` with
//! the matching status, and RFC 6750 `WWW-Authenticate` on 401s. Internals are logged, never
//! sent.

use crate::accounts::service::AccountError;
use crate::domain::tokens::TokenError;
use crate::store::{Outage, StoreError};
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
    /// `insufficient_scope`, `address_not_allowed`,
    /// `token_limit_reached`, `unauthorized`, `forbidden`, `not_found`, `rate_limited`,
    /// `unavailable`, `username_taken`, `last_admin`.
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
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// No credential at all.
    #[error("Authentication is required. Send an access token or a personal access token as `Authorization: Bearer <token>`.")]
    Unauthorized,
    /// A Bearer credential that is malformed, unknown, expired or revoked.
    #[error("The token is invalid, expired or revoked.")]
    InvalidToken,
    #[error("You do not have access to this.")]
    Forbidden,
    /// Not allowed, for a reason the caller is told.
    #[error("{0}")]
    ForbiddenBecause(String),
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
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Unauthorized | ApiError::InvalidToken => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden
            | ApiError::ForbiddenBecause(_)
            | ApiError::CrossSite
            | ApiError::UseRefused(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound | ApiError::NoSuchRoute => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidRequest(_)
            | ApiError::PayloadTooLarge
            | ApiError::MethodNotAllowed => "invalid_request",
            ApiError::Unprocessable { code, .. } | ApiError::Conflict { code, .. } => code,
            ApiError::Unauthorized | ApiError::InvalidToken => "unauthorized",
            ApiError::Forbidden | ApiError::ForbiddenBecause(_) | ApiError::CrossSite => {
                "forbidden"
            }
            ApiError::UseRefused(UseRefused::InsufficientScope) => "insufficient_scope",
            ApiError::UseRefused(UseRefused::AddressNotAllowed(_)) => "address_not_allowed",
            ApiError::NotFound | ApiError::NoSuchRoute => "not_found",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
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
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match (error.code(), &error) {
            (_, StoreError::NotFound) => ApiError::NotFound,
            (Some(code), _) => ApiError::Conflict {
                code,
                message: error.to_string(),
            },
            (None, other) => {
                tracing::error!(error = %other, "store failure");
                ApiError::Unavailable(other.outage())
            }
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> ApiError {
        let code = error.code();
        let message = error.to_string();
        match error {
            TokenError::LimitReached(_) => ApiError::Conflict { code, message },
            TokenError::CreationRestricted => ApiError::ForbiddenBecause(message),
            TokenError::NotRegenerable(_) => ApiError::Unprocessable { code, message },
            TokenError::InvalidDescription(_) | TokenError::InvalidAccess => {
                ApiError::InvalidRequest(message)
            }
            _ => ApiError::Unprocessable { code, message },
        }
    }
}

impl From<crate::tokens::service::LifecycleError> for ApiError {
    fn from(error: crate::tokens::service::LifecycleError) -> ApiError {
        use crate::tokens::service::LifecycleError;
        match error {
            LifecycleError::Refused(refusal) => refusal.into(),
            LifecycleError::NotFound => ApiError::NotFound,
            LifecycleError::Store(store) => store.into(),
        }
    }
}

impl From<crate::notify::service::NotifyError> for ApiError {
    fn from(error: crate::notify::service::NotifyError) -> ApiError {
        use crate::notify::service::NotifyError;
        match error {
            NotifyError::Invalid { .. } => ApiError::Unprocessable {
                code: "invalid_email",
                message: error.to_string(),
            },
            NotifyError::MailOff => ApiError::Unprocessable {
                code: "mail_off",
                message: error.to_string(),
            },
            NotifyError::Store(error) => error.into(),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> ApiError {
        match error {
            AccountError::Invalid { .. } | AccountError::WrongCurrentPassword => {
                ApiError::InvalidRequest(error.to_string())
            }
            AccountError::BadCredentials => ApiError::InvalidRequest(error.to_string()),
            AccountError::RateLimited { retry_after_secs } => ApiError::RateLimited {
                message: error.to_string(),
                retry_after_secs,
            },
            AccountError::Busy(busy) => ApiError::RateLimited {
                message: busy.to_string(),
                retry_after_secs: 1,
            },
            AccountError::Store(store) => store.into(),
        }
    }
}

impl From<UseRefused> for ApiError {
    fn from(refused: UseRefused) -> ApiError {
        ApiError::UseRefused(refused)
    }
}
