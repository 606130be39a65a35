//! Token secrets (SPEC §3): generation, the offline format check, digests and hints.
//!
//! A PAT is `patio_` + 43 base62 characters from the OS CSPRNG (256 bits) + 6 base62 characters
//! of the CRC32 of everything before them. The checksum lets Patio (and secret scanners) refuse
//! a mistyped or made-up token without touching the database.
//!
//! The other secrets Patio issues — OAuth access tokens, session ids, client credentials,
//! verification links — come from the same generator and are stored by the same digest.

use rand::rngs::OsRng;
use rand::{RngCore, TryRngCore};
use sha2::{Digest, Sha256};
use std::fmt;

pub const PAT_PREFIX: &str = "patio_";
pub const ACCESS_TOKEN_PREFIX: &str = "patio_at_";
const RANDOM_LEN: usize = 43;
const CHECKSUM_LEN: usize = 6;
pub const PAT_LEN: usize = PAT_PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A freshly issued secret. It is shown once and never stored; `Debug` hides it.
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_exposed(self) -> String {
        self.0
    }

    /// What the store keeps: the SHA-256 digest, hex-encoded.
    pub fn digest(&self) -> String {
        digest(&self.0)
    }

    /// The last four characters, to tell tokens apart (`patio_…x9Qa`).
    pub fn hint(&self) -> String {
        self.0[self.0.len() - 4..].to_owned()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// SHA-256 of a secret, hex-encoded. Secrets carry 256 bits of entropy, so a fast hash is
/// enough; a slow password hash would only add latency to every API call.
pub fn digest(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

fn random_base62(len: usize) -> String {
    let mut rng = OsRng.unwrap_err();
    let mut out = String::with_capacity(len);
    let mut bytes = [0u8; 64];
    while out.len() < len {
        rng.fill_bytes(&mut bytes);
        // 248 = 4 × 62: rejecting the rest keeps every character equally likely.
        for byte in bytes.iter().filter(|b| **b < 248).take(len - out.len()) {
            out.push(BASE62[(byte % 62) as usize] as char);
        }
    }
    out
}

/// The CRC32 of `body` in base62, as ASCII bytes (checked on every request, so no allocation).
fn base62_checksum(body: &str) -> [u8; CHECKSUM_LEN] {
    let mut value = crc32fast::hash(body.as_bytes()) as u64;
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    out
}

/// A new personal access token secret.
pub fn new_pat() -> Secret {
    let mut token = format!("{PAT_PREFIX}{}", random_base62(RANDOM_LEN));
    let checksum = base62_checksum(&token);
    token.extend(checksum.map(char::from));
    Secret(token)
}

/// A new short-lived access token (SPEC §2): its own prefix, no checksum needed.
pub fn new_access_token() -> Secret {
    Secret(format!(
        "{ACCESS_TOKEN_PREFIX}{}",
        random_base62(RANDOM_LEN)
    ))
}

/// A new introspection client's id (public) and secret (shown once, stored as a digest).
pub fn new_client_credentials() -> (String, Secret) {
    (
        format!("patio_client_{}", random_base62(16)),
        Secret(format!("patio_cs_{}", random_base62(RANDOM_LEN))),
    )
}

/// A new secret for something other than authenticating to Patio, under its own prefix: an
/// e-mail verification link (`patio_ev_`), a calendar feed (`patio_cal_`), a webhook signing
/// secret (`patio_whsec_`). 256 bits from the OS CSPRNG.
pub fn new_prefixed(prefix: &str) -> Secret {
    Secret(format!("{prefix}{}", random_base62(RANDOM_LEN)))
}

/// A new session id: 256 bits from the OS CSPRNG.
pub fn new_session_id() -> Secret {
    Secret(random_base62(RANDOM_LEN))
}

/// Whether `text` has the shape of a PAT: prefix, length, alphabet and checksum.
/// Runs before any database access, so garbage costs nothing.
pub fn is_well_formed_pat(text: &str) -> bool {
    let Some(rest) = text.strip_prefix(PAT_PREFIX) else {
        return false;
    };
    if text.len() != PAT_LEN || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (body, checksum) = text.split_at(PAT_LEN - CHECKSUM_LEN);
    base62_checksum(body) == checksum.as_bytes()
}

/// Whether `text` has the shape of an access token (SPEC §2).
pub fn is_well_formed_access_token(text: &str) -> bool {
    text.strip_prefix(ACCESS_TOKEN_PREFIX).is_some_and(|rest| {
        rest.len() == RANDOM_LEN && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_known_answers() {
        // The same answers as the detect-secrets plugin's test (tests/detect_secrets/).
        let zeros = format!("patio_{}", "0".repeat(43));
        assert_eq!(base62_checksum(&zeros), *b"0Qch97");
        let zs = format!("patio_{}", "z".repeat(43));
        assert_eq!(base62_checksum(&zs), *b"27kNzE");
        let body = "patio_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg";
        assert_eq!(base62_checksum(body), *b"3cW6pG");
    }

    #[test]
    fn new_tokens_have_the_documented_shape() {
        let secret = new_pat();
        let text = secret.expose();
        assert_eq!(text.len(), 55);
        assert!(text.starts_with("patio_"));
        assert!(text[6..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(is_well_formed_pat(text));
        assert_eq!(secret.hint(), &text[51..]);
        assert_eq!(secret.digest().len(), 64);
        assert_ne!(new_pat().expose(), text);
        assert_eq!(format!("{secret:?}"), "Secret(..)");
    }

    #[test]
    fn malformed_tokens_are_refused_offline() {
        let good = new_pat().into_exposed();
        assert!(!is_well_formed_pat(""));
        assert!(!is_well_formed_pat(&good.replacen("patio_", "patia_", 1)));
        assert!(!is_well_formed_pat(&good[..54]));
        assert!(!is_well_formed_pat(&format!("{good}a")));
        let mut bad_alphabet = good.clone();
        bad_alphabet.replace_range(10..11, "-");
        assert!(!is_well_formed_pat(&bad_alphabet));
        // Change one random character: the checksum no longer matches.
        let mut bad_checksum = good.clone().into_bytes();
        bad_checksum[20] = if bad_checksum[20] == b'a' { b'b' } else { b'a' };
        assert!(!is_well_formed_pat(
            std::str::from_utf8(&bad_checksum).unwrap()
        ));
        // Non-ASCII text of the right byte length must not panic on slicing.
        assert!(!is_well_formed_pat(&format!(
            "patio_{}",
            "é".repeat(24) + "a"
        )));
    }

    #[test]
    fn access_tokens_and_pats_never_pass_for_each_other() {
        let at = new_access_token().into_exposed();
        assert!(is_well_formed_access_token(&at));
        assert!(!is_well_formed_pat(&at));
        assert!(!is_well_formed_access_token(&new_pat().into_exposed()));
    }

    #[test]
    fn characters_are_spread_over_the_whole_alphabet() {
        let sample: String = (0..200).map(|_| random_base62(43)).collect();
        for c in BASE62 {
            assert!(sample.as_bytes().contains(c), "never drew {}", *c as char);
        }
    }
}
