//! Where a request came from (SPEC §9), the one answer used by sign-in limits, allowlists,
//! last-used addresses and logs: the socket peer, unless the peer is a trusted proxy; then the
//! right-most `X-Forwarded-For` hop that is not itself a trusted proxy. Headers from any other
//! peer are ignored, so a client cannot choose its own address.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

/// The client address of a request, as the guard resolved it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl std::fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> ClientAddress {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return ClientAddress(peer);
    }
    // Every X-Forwarded-For header, in order, as one list of hops, walked from the right: each
    // proxy appends the address it saw, so hops left of the first untrusted one are whatever
    // the client sent and are never read (a client's garbage cannot hide the proxy's entry).
    // Only when the hop where the client should be is itself unreadable is the chain
    // malformed, and then the peer answers (SPEC §9).
    let mut values: Vec<&str> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        match value.to_str() {
            Ok(text) => values.push(text),
            Err(_) => values.push("\u{fffd}"),
        }
    }
    for hop in values.iter().rev().flat_map(|value| value.rsplit(',')) {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip.to_canonical()) => continue,
            Ok(ip) => return ClientAddress(ip.to_canonical()),
            Err(_) => return ClientAddress(peer),
        }
    }
    ClientAddress(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    fn nets(text: &str) -> Vec<IpNet> {
        crate::config::parse_networks(text).unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let answer = resolve(ip("198.51.100.7"), &headers(&["203.0.113.9"]), &[]);
        assert_eq!(answer.0, ip("198.51.100.7"));
        let answer = resolve(
            ip("198.51.100.7"),
            &headers(&["203.0.113.9"]),
            &nets("10.0.0.0/8"),
        );
        assert_eq!(answer.0, ip("198.51.100.7"));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let trusted = nets("10.0.0.0/8, 2001:db8::1");
        // The client claims 1.2.3.4; the proxy appended the address it really saw.
        let answer = resolve(
            ip("10.0.0.2"),
            &headers(&["1.2.3.4, 203.0.113.9, 10.0.0.3"]),
            &trusted,
        );
        assert_eq!(answer.0, ip("203.0.113.9"));
        let answer = resolve(
            ip("2001:db8::1"),
            &headers(&["1.2.3.4", "203.0.113.9"]),
            &trusted,
        );
        assert_eq!(answer.0, ip("203.0.113.9"));
        // Only proxies in the chain, or no header: the peer.
        assert_eq!(
            resolve(ip("10.0.0.2"), &headers(&["10.0.0.3"]), &trusted).0,
            ip("10.0.0.2")
        );
        assert_eq!(
            resolve(ip("10.0.0.2"), &HeaderMap::new(), &trusted).0,
            ip("10.0.0.2")
        );
    }

    #[test]
    fn what_the_client_sent_left_of_the_proxies_entry_is_never_read() {
        // nginx and Envoy append the address they saw to the client's own header: garbage
        // (or a forged address) on the left changes nothing.
        let trusted = nets("10.0.0.0/8");
        for sent in [
            "garbage, 203.0.113.9",
            "not-an-ip, 10.0.0.7, 203.0.113.9",
            "10.0.0.5, 203.0.113.9",
            ", 203.0.113.9",
            "203.0.113.9:443, 203.0.113.9",
        ] {
            assert_eq!(
                resolve(ip("10.0.0.2"), &headers(&[sent]), &trusted).0,
                ip("203.0.113.9"),
                "{sent}"
            );
        }
        assert_eq!(
            resolve(
                ip("10.0.0.2"),
                &headers(&["garbage", "203.0.113.9"]),
                &trusted
            )
            .0,
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_malformed_chain_from_a_trusted_proxy_falls_back_to_the_peer() {
        let trusted = nets("10.0.0.0/8");
        for bad in [
            "203.0.113.9, not-an-ip",
            "",
            "203.0.113.9:443",
            "unknown",
            "1.2.3.4, garbage, 10.0.0.3",
        ] {
            assert_eq!(
                resolve(ip("10.0.0.2"), &headers(&[bad]), &trusted).0,
                ip("10.0.0.2"),
                "{bad}"
            );
        }
    }

    #[test]
    fn mapped_ipv4_peers_are_ipv4() {
        assert_eq!(
            resolve(ip("::ffff:203.0.113.9"), &HeaderMap::new(), &[]).0,
            ip("203.0.113.9")
        );
        let trusted = nets("127.0.0.1");
        let answer = resolve(ip("::ffff:127.0.0.1"), &headers(&["203.0.113.9"]), &trusted);
        assert_eq!(answer.0, ip("203.0.113.9"));
    }
}
