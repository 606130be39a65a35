//! A token's allowlist (SPEC §12): up to ten IP addresses or CIDR networks, IPv4 and IPv6,
//! from which the token may be used. Empty means anywhere.

use crate::config::parse_network;
use crate::tokens::rules::{TokenError, MAX_ALLOWED_IPS};
use ipnet::IpNet;
use std::net::IpAddr;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList(Vec<IpNet>);

/// What a stored list that cannot be read stands for: no address at all. Patio never writes
/// one; if the column were damaged, the token must fail closed, not open to anywhere.
fn nowhere() -> AllowList {
    AllowList(vec![IpNet::from(IpAddr::from(
        std::net::Ipv4Addr::UNSPECIFIED,
    ))])
}

impl AllowList {
    /// Entries as given: each an IP (`203.0.113.7`) or a network (`203.0.113.0/24`), at most
    /// ten; duplicates are dropped.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<AllowList, TokenError> {
        let entries: Vec<&str> = entries.into_iter().map(str::trim).collect();
        if entries.len() > MAX_ALLOWED_IPS {
            return Err(too_many());
        }
        let mut networks: Vec<IpNet> = Vec::new();
        for entry in entries {
            if entry.is_empty() {
                return Err(TokenError::InvalidAllowlist(
                    "An allowed address cannot be empty: give an IP address or a network.".into(),
                ));
            }
            let network = parse_network(entry).ok_or_else(|| {
                TokenError::InvalidAllowlist(format!(
                    "‘{}’ is not an IP address or a network such as 203.0.113.0/24 or 2001:db8::/32.",
                    entry.chars().take(60).collect::<String>()
                ))
            })?;
            if !networks.contains(&network) {
                networks.push(network);
            }
        }
        Ok(AllowList(networks))
    }

    /// The list as typed in one text field: entries separated by commas, spaces or lines.
    pub fn parse_text(text: &str) -> Result<AllowList, TokenError> {
        AllowList::parse(split_text(text))
    }

    /// The stored form: normalised networks, comma-separated.
    pub fn from_column(text: &str) -> AllowList {
        text.split(',')
            .filter(|entry| !entry.is_empty())
            .map(parse_network)
            .collect::<Option<Vec<_>>>()
            .map_or_else(nowhere, AllowList)
    }

    pub fn to_column(&self) -> String {
        self.entries().join(",")
    }

    /// Each entry as shown: a single address without its `/32` or `/128`.
    pub fn entries(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|net| {
                if net.prefix_len() == net.max_prefix_len() {
                    net.addr().to_string()
                } else {
                    net.to_string()
                }
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a request from `client` may use the token.
    pub fn permits(&self, client: IpAddr) -> bool {
        self.0.is_empty() || self.0.iter().any(|net| net.contains(&client))
    }
}

/// The entries of one text field: separated by commas, spaces or lines.
pub fn split_text(text: &str) -> Vec<&str> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|entry| !entry.is_empty())
        .collect()
}

fn too_many() -> TokenError {
    TokenError::InvalidAllowlist(format!(
        "A token can be limited to at most {MAX_ALLOWED_IPS} addresses or networks."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_ips_or_networks_of_either_family() {
        let list =
            AllowList::parse_text("203.0.113.0/24, 198.51.100.7\n2001:db8::/32 ::1").unwrap();
        assert_eq!(
            list.entries(),
            ["203.0.113.0/24", "198.51.100.7", "2001:db8::/32", "::1"]
        );
        assert!(list.permits("203.0.113.200".parse().unwrap()));
        assert!(list.permits("198.51.100.7".parse().unwrap()));
        assert!(!list.permits("198.51.100.8".parse().unwrap()));
        assert!(list.permits("2001:db8:1::5".parse().unwrap()));
        assert!(!list.permits("2001:db9::5".parse().unwrap()));
        assert_eq!(AllowList::from_column(&list.to_column()), list);
    }

    #[test]
    fn empty_means_anywhere_and_bad_entries_are_named() {
        let empty = AllowList::parse_text("  ").unwrap();
        assert!(empty.is_empty() && empty.permits("192.0.2.1".parse().unwrap()));
        assert_eq!(AllowList::from_column(""), empty);
        let damaged = AllowList::from_column("10.0.0.1,rubbish");
        assert!(!damaged.permits("10.0.0.1".parse().unwrap()));
        let error = AllowList::parse(["10.0.0.1", "example.com"]).unwrap_err();
        assert!(error.to_string().contains("‘example.com’"), "{error}");
        assert!(AllowList::parse(["10.0.0.0/33"]).is_err());
    }

    #[test]
    fn at_most_ten_distinct_entries() {
        let ten: Vec<String> = (1..=10).map(|n| format!("10.0.0.{n}")).collect();
        assert!(AllowList::parse(ten.iter().map(String::as_str)).is_ok());
        let eleven: Vec<String> = (1..=11).map(|n| format!("10.0.0.{n}")).collect();
        assert!(AllowList::parse(eleven.iter().map(String::as_str)).is_err());
        // Duplicates count once, and a network is normalised first.
        let list =
            AllowList::parse(["10.0.0.1", "10.0.0.1/32", "10.1.2.3/8", "10.0.0.0/8"]).unwrap();
        assert_eq!(list.entries(), ["10.0.0.1", "10.0.0.0/8"]);
    }
}
