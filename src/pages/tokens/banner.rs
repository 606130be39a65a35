//! The banner every signed-in page shows while a token expires within seven days (SPEC §10),
//! naming it and linking to regenerate it.

use crate::time::LocalTime;
use crate::web::page_error::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiringToken {
    pub id: i64,
    pub name: String,
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub expires_at: DateTime<Utc>,
}

/// The caller's active tokens that expire within seven days, soonest first; none when signed out.
#[server(prefix = "/rpc", endpoint = "tokens_expiring")]
pub async fn expiring_tokens() -> Result<Vec<ExpiringToken>, AppError> {
    use crate::tokens::rules::TokenStatus;
    use crate::web::context;
    let Ok(caller) = context::caller() else {
        return Ok(Vec::new());
    };
    let state = context::state();
    let now = state.clock.now();
    let mut expiring: Vec<ExpiringToken> = state
        .store
        .list_pats(caller.user.id)
        .await?
        .into_iter()
        .filter(|token| {
            TokenStatus::of(token.expires_at, token.revoked.is_some(), now)
                == TokenStatus::ExpiringSoon
        })
        .map(|token| ExpiringToken {
            id: token.id,
            name: token.name,
            expires_at: token.expires_at,
        })
        .collect();
    expiring.sort_by_key(|token| token.expires_at);
    Ok(expiring)
}

#[component]
pub fn ExpiringBanner() -> impl IntoView {
    let expiring = Resource::new(|| (), |_| expiring_tokens());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let tokens = expiring.await.unwrap_or_default();
                (!tokens.is_empty()).then(|| view! {
                    <aside class="expiring-banner" aria-label="Tokens expiring soon">
                        <ul>
                            {tokens.into_iter().map(|token| view! {
                                <li>
                                    "Your token " <strong>{format!("‘{}’", token.name)}</strong>
                                    " expires " <LocalTime at=token.expires_at /> ". "
                                    <a href=format!("/settings/tokens?regenerate={}", token.id)>
                                        "Regenerate it"
                                    </a>
                                </li>
                            }).collect_view()}
                        </ul>
                    </aside>
                })
            })}
        </Suspense>
    }
}
