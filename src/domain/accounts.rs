//! Account rules (SPEC §1): what a username, display name, password and role may be.
//! Pure functions: parse, don't validate — a value of these types is known to be valid.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    User,
}

/// Who a signed-in user is, as the pages and `GET /api/v1/me` show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[cfg_attr(feature = "ssr", schema(example = "user"))]
    pub role: Role,
}

/// An account as administrators see it, on Admin › Users and in `/api/v1/admin/users`:
/// everything but its password hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    #[cfg_attr(feature = "ssr", serde(serialize_with = "crate::time::rfc3339"))]
    pub created_at: DateTime<Utc>,
}

impl Me {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "user" => Some(Role::User),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A username: 3–64 characters of `[A-Za-z0-9._-]`, unique without regard to case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MIN: usize = 3;
    pub const MAX: usize = 64;

    pub fn parse(text: &str) -> Result<Username, String> {
        let text = text.trim();
        let len = text.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(format!(
                "A username must be {} to {} characters long.",
                Self::MIN,
                Self::MAX
            ));
        }
        if !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(
                "A username may contain only letters, digits, dots, underscores and hyphens."
                    .into(),
            );
        }
        Ok(Username(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive form under which usernames are unique and looked up.
    pub fn key(&self) -> String {
        username_key(&self.0)
    }
}

/// The lookup key for any typed username, valid or not (so unknown names can be rate-limited).
pub fn username_key(text: &str) -> String {
    text.trim().to_ascii_lowercase()
}

/// A display name: trimmed, 1–100 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX: usize = 100;

    pub fn parse(text: &str) -> Result<DisplayName, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("Enter a display name.".into());
        }
        if text.chars().count() > Self::MAX {
            return Err(format!(
                "A display name must be at most {} characters.",
                Self::MAX
            ));
        }
        if text.chars().any(char::is_control) {
            return Err("A display name cannot contain control characters.".into());
        }
        Ok(DisplayName(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 8–256 characters, no composition rules (NIST SP 800-63B).
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN: usize = 8;
    pub const MAX: usize = 256;

    pub fn parse(text: &str) -> Result<NewPassword, String> {
        let len = text.chars().count();
        if len < Self::MIN {
            return Err(format!(
                "A password must be at least {} characters.",
                Self::MIN
            ));
        }
        if len > Self::MAX {
            return Err(format!(
                "A password must be at most {} characters.",
                Self::MAX
            ));
        }
        Ok(NewPassword(text.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

// Never print a password, even in debug output.
impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

/// The account behind a credential: what every request needs to know about its caller, read
/// fresh each time. Narrower than the stored user (no password hash), so authenticating a
/// request decodes only what it uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    /// The e-mail address for notifications (SPEC §11), verified or not.
    pub email: Option<String>,
    pub email_verified: bool,
}

/// A user named by another record (who revoked a token, who acted in the audit log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRef {
    pub id: i64,
    pub username: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_rules() {
        assert!(Username::parse("al").is_err());
        assert!(Username::parse("ali").is_ok());
        assert!(Username::parse(&"a".repeat(64)).is_ok());
        assert!(Username::parse(&"a".repeat(65)).is_err());
        assert!(Username::parse("a.b_c-D9").is_ok());
        assert!(Username::parse("a b c").is_err());
        assert!(Username::parse("ünï").is_err());
        assert!(Username::parse("<script>").is_err());
        assert_eq!(Username::parse("  Alice ").unwrap().as_str(), "Alice");
        assert_eq!(Username::parse("Alice").unwrap().key(), "alice");
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse("a\u{7}b").is_err());
        assert!(DisplayName::parse(&"é".repeat(100)).is_ok());
        assert!(DisplayName::parse(&"é".repeat(101)).is_err());
        assert_eq!(DisplayName::parse(" Ada ").unwrap().as_str(), "Ada");
    }

    #[test]
    fn passwords_are_8_to_256_characters() {
        assert!(NewPassword::parse("1234567").is_err());
        assert!(NewPassword::parse("12345678").is_ok());
        assert!(NewPassword::parse(&"x".repeat(256)).is_ok());
        assert!(NewPassword::parse(&"x".repeat(257)).is_err());
        assert_eq!(
            format!("{:?}", NewPassword::parse("hunter2hunter2").unwrap()),
            "NewPassword(..)"
        );
    }

    #[test]
    fn roles_round_trip() {
        for role in [Role::Admin, Role::User] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
