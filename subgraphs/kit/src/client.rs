//! Who is on the other end of a request: the client IP (for per-IP budgets and the session
//! list) and the user agent (the "device" of a session).
//!
//! The router sets `X-Forwarded-For` to its own TCP peer. A subgraph believes that header only
//! from a trusted proxy (`trusted_proxies`, loopback by default); a client calling a subgraph
//! directly is taken at its TCP address, so a forged header cannot dodge a per-IP limit.

use std::net::{IpAddr, SocketAddr};

use async_graphql::Context;
use axum::http::{HeaderMap, header};

/// The caller's address and user agent, in the GraphQL context of every subgraph request.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

/// Longest user agent kept: enough to tell devices apart, too short to fill a table.
const MAX_USER_AGENT: usize = 256;

impl ClientInfo {
    pub fn from_request(peer: Option<SocketAddr>, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> Self {
        let peer_ip = peer.map(|p| p.ip());
        let forwarded = || {
            // The last hop is the one the trusted proxy appended; earlier ones are the client's say.
            let value = headers.get("x-forwarded-for")?.to_str().ok()?;
            value.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
        };
        let ip = match peer_ip {
            Some(p) if trusted.iter().any(|n| n.contains(&p)) => forwarded().or(peer_ip),
            _ => peer_ip,
        };
        let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|ua| {
            let mut ua = ua.trim().to_owned();
            if ua.len() > MAX_USER_AGENT {
                let cut = (0..=MAX_USER_AGENT).rev().find(|i| ua.is_char_boundary(*i)).unwrap_or(0);
                ua.truncate(cut);
            }
            ua
        });
        Self { ip, user_agent }
    }

    /// The IP as text, or `unknown` (requests built in-process have no peer).
    pub fn ip_text(&self) -> String {
        self.ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
    }

    /// The network a per-IP budget counts: the address for IPv4, its /64 for IPv6. One IPv6
    /// subscriber holds a whole /64 and can rotate through it freely, so counting single
    /// addresses there would be no budget at all.
    pub fn network(&self) -> String {
        match self.ip {
            Some(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
                ipnet::Ipv6Net::new(v6, 64).map(|n| n.trunc().to_string()).unwrap_or_else(|_| v6.to_string())
            }
            Some(ip) => ip.to_canonical().to_string(),
            None => "unknown".to_owned(),
        }
    }
}

#[cfg(test)]
mod network_tests {
    use super::ClientInfo;

    fn of(ip: &str) -> String {
        ClientInfo { ip: Some(ip.parse().expect("an address")), user_agent: None }.network()
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_and_ipv4_by_the_address() {
        assert_eq!(of("2001:db8:1:2:aaaa::1"), of("2001:db8:1:2:ffff::9"), "one /64, one budget");
        assert_eq!(of("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_ne!(of("2001:db8:1:3::1"), of("2001:db8:1:2::1"));
        assert_eq!(of("203.0.113.7"), "203.0.113.7");
        assert_eq!(of("::ffff:203.0.113.7"), "203.0.113.7", "a mapped IPv4 address is that address");
    }
}

/// The client of the current resolver (empty when the request carried none).
pub fn client<'a>(ctx: &'a Context<'_>) -> &'a ClientInfo {
    static NONE: ClientInfo = ClientInfo { ip: None, user_agent: None };
    ctx.data_opt::<ClientInfo>().unwrap_or(&NONE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().expect("a header value"));
        h
    }

    fn loopback() -> Vec<ipnet::IpNet> {
        vec!["127.0.0.0/8".parse().expect("a network")]
    }

    #[test]
    fn a_trusted_proxy_s_forwarded_address_is_the_client() {
        let c = ClientInfo::from_request(
            Some("127.0.0.1:5000".parse().unwrap()),
            &headers("9.9.9.9, 1.2.3.4"),
            &loopback(),
        );
        assert_eq!(c.ip, Some("1.2.3.4".parse().unwrap()));
    }

    #[test]
    fn an_untrusted_peer_cannot_claim_another_address() {
        let c = ClientInfo::from_request(Some("8.8.8.8:5000".parse().unwrap()), &headers("1.2.3.4"), &loopback());
        assert_eq!(c.ip, Some("8.8.8.8".parse().unwrap()));
    }
}
