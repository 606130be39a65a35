//! The instance's token policy (SPEC §14), set by administrators. It only tightens §3: a shorter
//! maximum lifetime, fewer active tokens, revoking tokens left unused, and who may create them.

use crate::domain::problem::{Answer, Kind, Problem};
use crate::tokens::rules::{MAX_ACTIVE_TOKENS, MAX_LIFETIME_DAYS, PRESET_DAYS};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
/// The longest "unused for" a policy may set (ten years).
pub const MAX_UNUSED_DAYS: i64 = 3650;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenCreators {
    Everyone,
    Admins,
}

impl TokenCreators {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenCreators::Everyone => "everyone",
            TokenCreators::Admins => "admins",
        }
    }

    pub fn parse(text: &str) -> Option<TokenCreators> {
        [TokenCreators::Everyone, TokenCreators::Admins]
            .into_iter()
            .find(|c| c.as_str() == text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub max_lifetime_days: i64,
    pub max_active_tokens: usize,
    /// Tokens unused (and not created) for this many days are revoked; `None`: never.
    pub revoke_unused_after_days: Option<i64>,
    pub token_creators: TokenCreators,
}

impl Default for Policy {
    /// SPEC §3 as it stands, with nothing tightened.
    fn default() -> Policy {
        Policy {
            max_lifetime_days: MAX_LIFETIME_DAYS,
            max_active_tokens: MAX_ACTIVE_TOKENS,
            revoke_unused_after_days: None,
            token_creators: TokenCreators::Everyone,
        }
    }
}

/// Why a policy cannot be set, naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PolicyError {
    pub field: &'static str,
    pub message: String,
}

impl Problem for PolicyError {
    fn answer(&self) -> Answer {
        Answer::new(Kind::Unprocessable, "invalid_request", &*self.message).at(self.field)
    }
}

impl Policy {
    /// A policy as asked for, checked against §3's bounds.
    pub fn new(
        max_lifetime_days: i64,
        max_active_tokens: i64,
        revoke_unused_after_days: Option<i64>,
        token_creators: TokenCreators,
    ) -> Result<Policy, PolicyError> {
        if !(1..=MAX_LIFETIME_DAYS).contains(&max_lifetime_days) {
            return Err(PolicyError {
                field: "max_lifetime_days",
                message: format!(
                    "The maximum lifetime is from 1 to {MAX_LIFETIME_DAYS} days: a policy can \
                     only shorten it."
                ),
            });
        }
        if !(1..=MAX_ACTIVE_TOKENS as i64).contains(&max_active_tokens) {
            return Err(PolicyError {
                field: "max_active_tokens",
                message: format!(
                    "The maximum number of active tokens is from 1 to {MAX_ACTIVE_TOKENS}."
                ),
            });
        }
        if revoke_unused_after_days.is_some_and(|days| !(1..=MAX_UNUSED_DAYS).contains(&days)) {
            return Err(PolicyError {
                field: "revoke_unused_after_days",
                message: format!(
                    "Revoke unused tokens after 1 to {MAX_UNUSED_DAYS} days, or never (leave it \
                     empty)."
                ),
            });
        }
        Ok(Policy {
            max_lifetime_days,
            max_active_tokens: max_active_tokens as usize,
            revoke_unused_after_days,
            token_creators,
        })
    }

    /// The policy in a line, for the audit log.
    pub fn summary(&self) -> String {
        let unused = self
            .revoke_unused_after_days
            .map_or("never".to_owned(), |days| format!("after {days} days"));
        format!(
            "lifetime ≤ {} days; ≤ {} active tokens; unused tokens revoked {unused}; tokens \
             created by {}",
            self.max_lifetime_days,
            self.max_active_tokens,
            self.token_creators.as_str()
        )
    }

    /// Whether a token issued at `issued_at` to expire at `expires_at` lives longer than the
    /// policy now allows (it was made under a looser one).
    pub fn exceeded_by(&self, issued_at: DateTime<Utc>, expires_at: DateTime<Utc>) -> bool {
        expires_at - issued_at > Duration::days(self.max_lifetime_days)
    }

    /// The preset lifetimes the policy leaves.
    pub fn presets(&self) -> Vec<i64> {
        PRESET_DAYS
            .into_iter()
            .filter(|days| *days <= self.max_lifetime_days)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::rules::limit_message;

    #[test]
    fn a_policy_only_tightens_section_three() {
        assert!(Policy::new(365, 5, None, TokenCreators::Everyone).is_ok());
        assert!(Policy::new(1, 1, Some(1), TokenCreators::Admins).is_ok());
        for (days, active, unused, field) in [
            (0, 5, None, "max_lifetime_days"),
            (366, 5, None, "max_lifetime_days"),
            (30, 0, None, "max_active_tokens"),
            (30, 6, None, "max_active_tokens"),
            (30, 5, Some(0), "revoke_unused_after_days"),
            (30, 5, Some(3651), "revoke_unused_after_days"),
        ] {
            let error = Policy::new(days, active, unused, TokenCreators::Everyone).unwrap_err();
            assert_eq!(error.field, field);
        }
        assert_eq!(
            Policy::default(),
            Policy::new(365, 5, None, TokenCreators::Everyone).unwrap()
        );
        let sixty = Policy::new(60, 1, None, TokenCreators::Everyone).unwrap();
        assert_eq!(sixty.presets(), vec![7, 30, 60]);
        let issued = chrono::Utc::now();
        assert!(!sixty.exceeded_by(issued, issued + Duration::days(60)));
        assert!(sixty.exceeded_by(issued, issued + Duration::days(61)));
        assert_eq!(
            limit_message(1),
            "You have 1 active token, the maximum. Delete one to generate another."
        );
    }
}
