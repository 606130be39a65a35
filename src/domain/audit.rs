//! What the audit log records (SPEC §14), with no HTTP in it: every administrative action. An
//! action on an account or token by anyone other than its owner (an administrator, the command
//! line, the leaked-token intake, the policy's sweep) is administrative.

use crate::domain::events::EventKind;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    UserCreated,
    AccountDeactivated,
    AccountReactivated,
    RoleChanged,
    PasswordReset,
    CredentialsRevoked,
    TokenRevoked,
    ClientRegistered,
    ClientRemoved,
    PolicyChanged,
}

impl AuditAction {
    pub const ALL: [AuditAction; 10] = [
        AuditAction::UserCreated,
        AuditAction::AccountDeactivated,
        AuditAction::AccountReactivated,
        AuditAction::RoleChanged,
        AuditAction::PasswordReset,
        AuditAction::CredentialsRevoked,
        AuditAction::TokenRevoked,
        AuditAction::ClientRegistered,
        AuditAction::ClientRemoved,
        AuditAction::PolicyChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::UserCreated => "user_created",
            AuditAction::AccountDeactivated => "account_deactivated",
            AuditAction::AccountReactivated => "account_reactivated",
            AuditAction::RoleChanged => "role_changed",
            AuditAction::PasswordReset => "password_reset",
            AuditAction::CredentialsRevoked => "credentials_revoked",
            AuditAction::TokenRevoked => "token_revoked",
            AuditAction::ClientRegistered => "client_registered",
            AuditAction::ClientRemoved => "client_removed",
            AuditAction::PolicyChanged => "policy_changed",
        }
    }

    pub fn parse(text: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == text)
    }

    pub fn title(self) -> &'static str {
        match self {
            AuditAction::UserCreated => "User created",
            AuditAction::AccountDeactivated => "Account deactivated",
            AuditAction::AccountReactivated => "Account reactivated",
            AuditAction::RoleChanged => "Role changed",
            AuditAction::PasswordReset => "Password reset",
            AuditAction::CredentialsRevoked => "All credentials revoked",
            AuditAction::TokenRevoked => "Token revoked",
            AuditAction::ClientRegistered => "Client registered",
            AuditAction::ClientRemoved => "Client removed",
            AuditAction::PolicyChanged => "Policy changed",
        }
    }

    /// The administrative action a security-log event is, when someone other than the
    /// account's owner caused it.
    pub fn of_event(kind: EventKind) -> Option<AuditAction> {
        match kind {
            EventKind::AccountDeactivated => Some(AuditAction::AccountDeactivated),
            EventKind::AccountReactivated => Some(AuditAction::AccountReactivated),
            EventKind::RoleChanged => Some(AuditAction::RoleChanged),
            EventKind::PasswordChanged => Some(AuditAction::PasswordReset),
            EventKind::TokenRevoked => Some(AuditAction::TokenRevoked),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_and_only_changes_are_audited() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Some(action));
            assert_eq!(
                serde_json::to_string(&action).unwrap(),
                format!("\"{}\"", action.as_str())
            );
        }
        for kind in [
            EventKind::SignedIn,
            EventKind::SignInFailed,
            EventKind::TokenExpired,
            EventKind::TokenRefused,
            EventKind::TokenUsedFromNewAddress,
        ] {
            assert_eq!(AuditAction::of_event(kind), None, "{kind:?}");
        }
    }
}
