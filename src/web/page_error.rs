//! The error type of the page boundary: what a server function can answer, in words a person
//! understands. The REST API has its own (`api::ApiError`); both map the domain errors.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A form field the user can correct; shown next to that field.
    #[error("{message}")]
    Field { field: String, message: String },
    /// A refusal the user can act on, shown above the form.
    #[error("{0}")]
    Refused(String),
    #[error("Your session has ended. Sign in again to continue.")]
    SignedOut,
    #[error("You do not have access to this.")]
    Forbidden,
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// The database cannot serve the request; the sentence says why (`store::Outage`).
    #[error("{0}")]
    Unavailable(String),
    #[error("The request could not be completed: {0}")]
    Request(String),
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> AppError {
        AppError::Field {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The message for `field`, if this error belongs next to it.
    pub fn for_field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Field { field, message } if field == name => Some(message.clone()),
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

    pub fn status(&self) -> u16 {
        match self {
            AppError::Field { .. } => 422,
            AppError::Refused(_) => 400,
            AppError::SignedOut => 401,
            AppError::Forbidden => 403,
            AppError::RateLimited { .. } => 429,
            AppError::Unavailable(_) => 503,
            AppError::Request(_) => 400,
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

#[cfg(feature = "ssr")]
impl From<crate::store::StoreError> for AppError {
    fn from(error: crate::store::StoreError) -> AppError {
        use crate::store::StoreError;
        match error {
            StoreError::UsernameTaken => AppError::field("username", error.to_string()),
            StoreError::NotFound | StoreError::LastAdmin | StoreError::AlreadySetUp => {
                AppError::Refused(error.to_string())
            }
            other => {
                tracing::error!(error = %other, "store failure");
                AppError::Unavailable(other.outage().message().to_owned())
            }
        }
    }
}

impl From<crate::domain::tokens::TokenError> for AppError {
    fn from(error: crate::domain::tokens::TokenError) -> AppError {
        use crate::domain::tokens::TokenError;
        let message = error.to_string();
        match error {
            TokenError::InvalidName(_) | TokenError::DuplicateName(_) => {
                AppError::field("name", message)
            }
            TokenError::InvalidDescription(_) => AppError::field("description", message),
            TokenError::InvalidExpiration(_) => AppError::field("expiration", message),
            TokenError::LimitReached(_)
            | TokenError::NotRegenerable(_)
            | TokenError::CreationRestricted => AppError::Refused(message),
            TokenError::InvalidAllowlist(_) => AppError::field("allowed_ips", message),
            TokenError::InvalidAccess => AppError::field("access", message),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::tokens::service::LifecycleError> for AppError {
    fn from(error: crate::tokens::service::LifecycleError) -> AppError {
        use crate::tokens::service::LifecycleError;
        match error {
            LifecycleError::Refused(refusal) => refusal.into(),
            LifecycleError::NotFound => AppError::Refused(error.to_string()),
            LifecycleError::Store(store) => store.into(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::notify::service::NotifyError> for AppError {
    fn from(error: crate::notify::service::NotifyError) -> AppError {
        use crate::notify::service::NotifyError;
        match error {
            NotifyError::Invalid { field, message } => AppError::field(field, message),
            NotifyError::MailOff => AppError::Refused(error.to_string()),
            NotifyError::Store(error) => error.into(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::gateway::clients::ClientError> for AppError {
    fn from(error: crate::gateway::clients::ClientError) -> AppError {
        use crate::gateway::clients::ClientError;
        match error {
            ClientError::InvalidName(message) => AppError::field("name", message),
            ClientError::Store(store) => store.into(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::accounts::service::AccountError> for AppError {
    fn from(error: crate::accounts::service::AccountError) -> AppError {
        use crate::accounts::service::AccountError;
        match error {
            AccountError::Invalid { field, message } => AppError::field(field, message),
            AccountError::WrongCurrentPassword => {
                AppError::field("current_password", error.to_string())
            }
            AccountError::BadCredentials => AppError::Refused(error.to_string()),
            AccountError::RateLimited { retry_after_secs } => AppError::RateLimited {
                message: error.to_string(),
                retry_after_secs,
            },
            AccountError::Busy(busy) => AppError::RateLimited {
                message: busy.to_string(),
                retry_after_secs: 1,
            },
            AccountError::Store(store) => store.into(),
        }
    }
}
