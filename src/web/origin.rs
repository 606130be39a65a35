//! Where an action came from, for the security log.

use super::{Caller, ClientAddress};
use crate::domain::events::Origin;
use axum::http::request::Parts;

/// Who is acting on this request and from where, for the security log: the caller the guard
/// resolved, the client address (SPEC §9) and the user agent.
pub fn origin_of(parts: &Parts) -> Origin {
    let actor = parts
        .extensions
        .get::<Caller>()
        .and_then(|Caller(caller)| caller.as_ref().map(|principal| principal.user.id));
    let client = parts
        .extensions
        .get::<ClientAddress>()
        .map(|client| client.0);
    let user_agent = parts
        .headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|value| value.to_str().ok());
    Origin::new(actor, client, user_agent)
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(origin_of(parts))
    }
}
