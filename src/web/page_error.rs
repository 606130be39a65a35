//! The error type of the page boundary: what a server function can answer, in words a person
//! understands. The REST API has its own (`web::ApiError`); both answer a domain error as it
//! says (`domain::problem`), with the status `web::status` gives its kind.

use crate::domain::problem::Kind;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A form field the user can correct; shown next to that field. `status` is the HTTP
    /// status it was answered with.
    #[error("{message}")]
    Field {
        field: String,
        message: String,
        status: u16,
    },
    /// A refusal the user can act on, shown above the form.
    #[error("{message}")]
    Refused { message: String, status: u16 },
    #[error("Your session has ended. Sign in again to continue.")]
    SignedOut,
    #[error("You do not have access to this.")]
    Forbidden,
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// The database cannot serve the request; the sentence says why (`db::Outage`).
    #[error("{0}")]
    Unavailable(String),
    #[error("The request could not be completed: {0}")]
    Request(String),
}

impl AppError {
    /// The message for `field`, if this error belongs next to it.
    pub fn for_field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Field { field, message, .. } if field == name => Some(message.clone()),
            _ => None,
        }
    }

    /// The message to show above a form: every error that does not belong to a field.
    pub fn general(&self) -> Option<String> {
        match self {
            AppError::Field { .. } => None,
            other => Some(other.to_string()),
        }
    }

    /// A value the page itself finds malformed in a form field.
    pub fn field(field: &str, message: impl Into<String>) -> AppError {
        AppError::answering(Kind::Invalid, Some(field), message.into())
    }

    /// A request the page itself refuses, for this kind of reason.
    pub fn refused(kind: Kind, message: impl Into<String>) -> AppError {
        AppError::answering(kind, None, message.into())
    }

    /// How a refusal of `kind` is put on a page: next to `field` if it has one.
    fn answering(kind: Kind, field: Option<&str>, message: String) -> AppError {
        let status = crate::web::status(kind).as_u16();
        match (kind, field) {
            (Kind::Unavailable, _) => AppError::Unavailable(message),
            (Kind::RateLimited { retry_after_secs }, _) => AppError::RateLimited {
                message,
                retry_after_secs,
            },
            (_, Some(field)) => AppError::Field {
                field: field.to_owned(),
                message,
                status,
            },
            (_, None) => AppError::Refused { message, status },
        }
    }

    pub fn status(&self) -> u16 {
        let kind = match self {
            AppError::Field { status, .. } | AppError::Refused { status, .. } => return *status,
            AppError::SignedOut => return http::StatusCode::UNAUTHORIZED.as_u16(),
            AppError::Forbidden => Kind::Forbidden,
            AppError::RateLimited {
                retry_after_secs, ..
            } => Kind::RateLimited {
                retry_after_secs: *retry_after_secs,
            },
            AppError::Unavailable(_) => Kind::Unavailable,
            AppError::Request(_) => Kind::Invalid,
        };
        crate::web::status(kind).as_u16()
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> AppError {
        AppError::Request(match error {
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => {
                "Patio could not be reached. Check your connection and try again.".to_owned()
            }
            other => other.to_string(),
        })
    }

    /// Runs on the server when an error is answered: gives the response the error's status
    /// instead of the generic 500 (plain form posts keep their redirect back to the form).
    fn ser(&self) -> leptos::server_fn::Bytes {
        #[cfg(feature = "ssr")]
        {
            use crate::web::context;
            if !context::is_plain_form_post() {
                if let Ok(status) = http::StatusCode::from_u16(self.status()) {
                    context::set_status(status);
                }
                if let AppError::RateLimited {
                    retry_after_secs, ..
                } = self
                {
                    context::set_header(
                        http::header::RETRY_AFTER,
                        http::HeaderValue::from(*retry_after_secs),
                    );
                }
            }
        }
        <JsonEncoding as leptos::server_fn::Encodes<AppError>>::encode(self).unwrap_or_default()
    }
}

/// A domain error, answered as it says (`domain::problem`); an outage is logged here.
#[cfg(feature = "ssr")]
impl<E: crate::domain::problem::Problem> From<E> for AppError {
    fn from(error: E) -> AppError {
        let answer = error.answer();
        if answer.kind == Kind::Unavailable {
            tracing::error!(%error, "store failure");
        }
        AppError::answering(answer.kind, answer.field, answer.sentence)
    }
}
