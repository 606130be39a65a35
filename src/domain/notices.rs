//! What Patio tells people and how (SPEC §11), with no I/O in it: the kinds of notification,
//! e-mail addresses and webhook addresses as accepted, and the retry schedule.

use serde::{Deserialize, Serialize};

/// Every kind of notification. The names are the webhook's `event` and the database's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A link to verify an e-mail address (mail only; the one mail an unverified address gets).
    VerifyEmail,
    ExpiresIn7Days,
    ExpiresIn1Day,
    Expired,
    UsedFromNewAddress,
    Revoked,
    PasswordChanged,
    /// "Send test event" on the Notifications page.
    Test,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 8] = [
        NoticeKind::VerifyEmail,
        NoticeKind::ExpiresIn7Days,
        NoticeKind::ExpiresIn1Day,
        NoticeKind::Expired,
        NoticeKind::UsedFromNewAddress,
        NoticeKind::Revoked,
        NoticeKind::PasswordChanged,
        NoticeKind::Test,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::VerifyEmail => "verify_email",
            NoticeKind::ExpiresIn7Days => "token_expires_in_7_days",
            NoticeKind::ExpiresIn1Day => "token_expires_in_1_day",
            NoticeKind::Expired => "token_expired",
            NoticeKind::UsedFromNewAddress => "token_used_from_new_address",
            NoticeKind::Revoked => "token_revoked",
            NoticeKind::PasswordChanged => "password_changed",
            NoticeKind::Test => "test",
        }
    }

    pub fn parse(text: &str) -> Option<NoticeKind> {
        NoticeKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// An e-mail address as accepted: trimmed, one `@` with something on each side, a dot in the
/// domain, no spaces or control characters, at most 254 characters (RFC 5321's path limit).
pub fn parse_email(text: &str) -> Result<String, String> {
    let text = text.trim();
    let valid = text.len() <= 254
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(text.split_once('@'), Some((local, domain))
            if !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.'));
    if valid {
        Ok(text.to_owned())
    } else {
        Err("Enter an e-mail address such as ada@example.com.".into())
    }
}

/// A webhook address as accepted: an absolute `http` or `https` URL with a host, without
/// credentials in it, at most 2000 characters.
pub fn parse_webhook_url(text: &str) -> Result<url::Url, String> {
    let refuse = || {
        "Enter an http:// or https:// address, such as https://example.com/hooks/patio.".to_owned()
    };
    let text = text.trim();
    if text.len() > 2000 {
        return Err(refuse());
    }
    let url = url::Url::parse(text).map_err(|_| refuse())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(refuse());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "Leave credentials out of the address; Patio signs every delivery instead.".into(),
        );
    }
    Ok(url)
}

/// The address blocks that are not globally reachable, from IANA's special-purpose address
/// registries (IPv4 and IPv6, as of 2026), with multicast and the reserved 240.0.0.0/4 beside
/// them. Blocks that embed an IPv4 address (NAT64, IPv4-compatible, 6to4, Teredo) are refused
/// whole: what they lead to is up to a translator Patio cannot see.
const NOT_GLOBAL: &[&str] = &[
    // IPv4 (RFC 6890 and its updates)
    "0.0.0.0/8",       // "this network"
    "10.0.0.0/8",      // private
    "100.64.0.0/10",   // shared address space (carrier-grade NAT)
    "127.0.0.0/8",     // loopback
    "169.254.0.0/16",  // link-local (cloud metadata services)
    "172.16.0.0/12",   // private
    "192.0.0.0/24",    // IETF protocol assignments
    "192.0.2.0/24",    // documentation (TEST-NET-1)
    "192.31.196.0/24", // AS112-v4
    "192.52.193.0/24", // AMT
    "192.88.99.0/24",  // deprecated 6to4 relay anycast
    "192.168.0.0/16",  // private
    "192.175.48.0/24", // direct delegation AS112
    "198.18.0.0/15",   // benchmarking
    "198.51.100.0/24", // documentation (TEST-NET-2)
    "203.0.113.0/24",  // documentation (TEST-NET-3)
    "224.0.0.0/4",     // multicast
    "240.0.0.0/4",     // reserved, and the limited broadcast 255.255.255.255
    // IPv6 (RFC 6890 and its updates)
    "::/96",          // unspecified, loopback and the deprecated IPv4-compatible block
    "::ffff:0:0/96",  // IPv4-mapped (checked again as IPv4 below)
    "64:ff9b::/96",   // NAT64 well-known prefix
    "64:ff9b:1::/48", // local-use NAT64
    "100::/64",       // discard-only
    "2001::/23",      // IETF protocol assignments (Teredo, benchmarking, ORCHID…)
    "2001:db8::/32",  // documentation
    "2002::/16",      // 6to4
    "3fff::/20",      // documentation
    "5f00::/16",      // segment routing SIDs
    "fc00::/7",       // unique-local
    "fe80::/10",      // link-local
    "fec0::/10",      // deprecated site-local
    "ff00::/8",       // multicast
];

/// Whether an address a webhook resolves to is off limits unless private targets are allowed:
/// anything not globally reachable (`NOT_GLOBAL`).
pub fn is_private(ip: std::net::IpAddr) -> bool {
    static BLOCKS: std::sync::OnceLock<Vec<ipnet::IpNet>> = std::sync::OnceLock::new();
    let blocks = BLOCKS.get_or_init(|| {
        NOT_GLOBAL
            .iter()
            .map(|block| block.parse().expect("a valid block"))
            .collect()
    });
    blocks.iter().any(|block| block.contains(&ip))
        || matches!(ip, std::net::IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some())
}

/// How long after a failed delivery to try again: 30 s, doubling, at most an hour. Deliveries
/// are given up 24 hours after they were first due.
pub fn retry_delay_seconds(attempts: i64) -> i64 {
    let exponent = attempts.clamp(1, 8) - 1;
    (30_i64 << exponent).min(3600)
}

pub const GIVE_UP_AFTER_HOURS: i64 = 24;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in NoticeKind::ALL {
            assert_eq!(NoticeKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn addresses_are_checked() {
        assert_eq!(parse_email(" ada@example.com ").unwrap(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@localhost",
            "a b@example.com",
            "a@b@c.com",
            "ada@example.com.",
        ] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
        assert!(parse_webhook_url("https://example.com/hook").is_ok());
        assert!(parse_webhook_url("http://127.0.0.1:8080/x").is_ok());
        for bad in [
            "ftp://example.com",
            "example.com/hook",
            "https://user:pw@example.com/",
            "https://",
        ] {
            assert!(parse_webhook_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn private_targets_are_recognised() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "0.0.0.0",
            // The ranges a review found open: NAT64, IPv4-compatible, 6to4, "this network",
            // multicast, reserved, benchmarking, site-local.
            "64:ff9b::7f00:1",
            "64:ff9b::808:808",
            "64:ff9b:1::a00:1",
            "::127.0.0.1",
            "::8.8.8.8",
            "2002:7f00:1::1",
            "2002:808:808::1",
            "0.1.2.3",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "198.19.255.254",
            "fec0::1",
            "ff02::1",
            "2001::1",
            "2001:db8::1",
            "3fff::1",
            "100::1",
            "192.0.0.8",
            "192.88.99.1",
            "192.0.2.1",
            "198.51.100.1",
            "203.0.113.1",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "2606:2800:220:1::1",
            "8.8.8.8",
            "1.1.1.1",
            "198.20.0.1",
            "223.255.255.1",
            "2a00:1450:4001::1",
            "2003::1",
        ] {
            assert!(!is_private(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(retry_delay_seconds(1), 30);
        assert_eq!(retry_delay_seconds(2), 60);
        assert_eq!(retry_delay_seconds(5), 480);
        assert_eq!(retry_delay_seconds(20), 3600);
    }
}
