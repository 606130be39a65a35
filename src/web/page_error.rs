//! The error type of the page boundary: what a server function can answer, in words a person
//! understands. The REST API has its own (`web::ApiError`); both answer a domain error as it
//! says (`domain::problem`), with the status `web::status` gives its kind.

use crate::domain::problem::Kind;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A form field the user can correct; shown next to that field.
    #[error("{message}")]
    Field {
        field: String,
        message: String,
        #[cfg(feature = "ssr")]
        #[serde(skip)]
        status: Status,
    },
    /// A refusal the user can act on, shown above the form.
    #[error("{0}")]
    Refused(Reason),
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

/// A refusal's sentence, and on the server the status it is answered with. On the wire, and in
/// the browser, it is the sentence alone: the response's status line carries the status.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Reason {
    pub message: String,
    #[serde(skip)]
    status: Status,
}

#[cfg(not(feature = "ssr"))]
pub type Reason = String;

#[cfg(feature = "ssr")]
impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The HTTP status a refusal is answered with. Only the server holds it: the response's status
/// line carries it, so it is in neither the body nor the browser's bundle (an error read back
/// from JSON has none: 200). It is no part of what an error says: two errors that say the same
/// are equal whatever their status.
#[cfg(feature = "ssr")]
#[derive(Clone, Copy, Debug, Default)]
pub struct Status(http::StatusCode);

#[cfg(feature = "ssr")]
impl PartialEq for Status {
    fn eq(&self, _: &Status) -> bool {
        true
    }
}

#[cfg(feature = "ssr")]
impl Eq for Status {}

impl AppError {
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
        #[cfg(feature = "ssr")]
        let status = Status(crate::web::status(kind));
        match (kind, field) {
            (Kind::Unavailable, _) => AppError::Unavailable(message),
            (Kind::RateLimited { retry_after_secs }, _) => AppError::RateLimited {
                message,
                retry_after_secs,
            },
            (_, Some(field)) => AppError::Field {
                field: field.to_owned(),
                message,
                #[cfg(feature = "ssr")]
                status,
            },
            #[cfg(feature = "ssr")]
            (_, None) => AppError::Refused(Reason { message, status }),
            #[cfg(not(feature = "ssr"))]
            (_, None) => AppError::Refused(message),
        }
    }

    /// The HTTP status this error is answered with.
    #[cfg(feature = "ssr")]
    pub fn status(&self) -> http::StatusCode {
        let kind = match self {
            AppError::Field { status, .. } | AppError::Refused(Reason { status, .. }) => {
                return status.0
            }
            AppError::SignedOut => return http::StatusCode::UNAUTHORIZED,
            AppError::Forbidden => Kind::Forbidden,
            AppError::RateLimited {
                retry_after_secs, ..
            } => Kind::RateLimited {
                retry_after_secs: *retry_after_secs,
            },
            AppError::Unavailable(_) => Kind::Unavailable,
            AppError::Request(_) => Kind::Invalid,
        };
        crate::web::status(kind)
    }

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
                context::set_status(self.status());
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
