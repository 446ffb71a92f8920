//! Trusted proxies: whose `X-Forwarded-For` / `X-Real-IP` name the client.
//!
//! Owns: the list of trusted addresses and networks (`trusted_proxies`) and the rule that
//! picks the client address of a request that came through them.
//! The rule: only a peer in the list is believed. `X-Forwarded-For` is read from the
//! right (the entry the nearest proxy appended) past every trusted address; the first
//! untrusted one is the client. Without that header, `X-Real-IP`. A value that does not
//! parse as an address ends the walk: the last good address is used, never the garbage.

use std::net::{IpAddr, SocketAddr};

use crate::http::fields::Headers;

/// An address and prefix length (`10.0.0.0/8`, `::1/128`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .trim_matches(|c| c == '[' || c == ']')
            .parse()
            .map_err(|_| format!("\"{s}\" is not an IP address or network (as 10.0.0.1, 10.0.0.0/8, ::1)"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= max)
                .ok_or_else(|| format!("\"{s}\": the prefix length must be 0 to {max}"))?,
        };
        Ok(Self { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:10.0.0.1`, what a dual-stack socket reports)
/// as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[derive(Clone, Debug, Default)]
pub struct TrustedProxies {
    networks: Vec<Network>,
}

impl TrustedProxies {
    /// From a comma- or space-separated list; an empty list trusts nobody.
    pub fn parse(list: &str) -> Result<Self, String> {
        let networks = list
            .split(|c: char| c == ',' || c.is_ascii_whitespace())
            .filter(|s| !s.is_empty())
            .map(Network::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { networks })
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|n| n.contains(ip))
    }

    /// The client's address: `peer`, or what trusted proxies say (port 0 then: a proxy
    /// does not tell the client's port).
    pub fn client(&self, peer: SocketAddr, headers: &Headers) -> SocketAddr {
        if self.networks.is_empty() || !self.trusts(peer.ip()) {
            return peer;
        }
        let mut client = None;
        let forwarded: Vec<&str> =
            headers.all_named(b"x-forwarded-for").filter_map(|v| std::str::from_utf8(v).ok()).collect();
        if !forwarded.is_empty() {
            // Repeated headers are one list in order: walk all of it from the right.
            for entry in forwarded.iter().rev().flat_map(|v| v.rsplit(',')) {
                let Some(ip) = parse_entry(entry) else { break };
                client = Some(ip);
                if !self.trusts(ip) {
                    break;
                }
            }
        } else if let Some(ip) = headers
            .all_named(b"x-real-ip")
            .next()
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(parse_entry)
        {
            client = Some(ip);
        }
        client.map_or(peer, |ip| SocketAddr::new(canonical(ip), 0))
    }
}

/// One address of a forwarding header: `1.2.3.4`, ` 2001:db8::1`, `[2001:db8::1]:443`,
/// `1.2.3.4:5678`.
fn parse_entry(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    s.parse::<SocketAddr>().ok().map(|a| a.ip())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    fn h(pairs: &[(&str, &str)]) -> Headers {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        m.into()
    }

    fn peer(s: &str) -> SocketAddr {
        SocketAddr::new(s.parse().unwrap(), 40000)
    }

    #[test]
    fn networks_parse_and_match() {
        let n = Network::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.9.8.7".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.1.1.1".parse().unwrap()));
        assert!(Network::parse("::1").unwrap().contains("::1".parse().unwrap()));
        assert!(Network::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        for bad in ["10.0.0.0/33", "nope", "10.0.0/8", "::1/129", "1.2.3.4/x"] {
            assert!(Network::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_a_trusted_peer_is_believed() {
        let p = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").unwrap();
        let fwd = h(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(p.client(peer("127.0.0.1"), &fwd).ip().to_string(), "203.0.113.7");
        assert_eq!(p.client(peer("198.51.100.1"), &fwd), peer("198.51.100.1"));
        assert_eq!(TrustedProxies::default().client(peer("127.0.0.1"), &fwd), peer("127.0.0.1"));
    }

    #[test]
    fn forwarded_for_is_walked_from_the_right_past_trusted_hops() {
        let p = TrustedProxies::parse("127.0.0.1 10.0.0.0/8").unwrap();
        // The client forged the first entry; the proxies appended the rest.
        let fwd = h(&[("x-forwarded-for", "1.1.1.1, 203.0.113.7, 10.0.0.2")]);
        assert_eq!(p.client(peer("127.0.0.1"), &fwd).ip().to_string(), "203.0.113.7");
        let two = h(&[("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "203.0.113.9, 10.1.1.1")]);
        assert_eq!(p.client(peer("10.0.0.1"), &two).ip().to_string(), "203.0.113.9");
        let garbage = h(&[("x-forwarded-for", "<script>, 10.0.0.3")]);
        assert_eq!(p.client(peer("127.0.0.1"), &garbage).ip().to_string(), "10.0.0.3");
        let ports = h(&[("x-forwarded-for", "[2001:db8::1]:443")]);
        assert_eq!(p.client(peer("127.0.0.1"), &ports).ip().to_string(), "2001:db8::1");
    }

    #[test]
    fn real_ip_when_there_is_no_forwarded_for() {
        let p = TrustedProxies::parse("127.0.0.1").unwrap();
        assert_eq!(
            p.client(peer("127.0.0.1"), &h(&[("x-real-ip", "203.0.113.5")])).ip().to_string(),
            "203.0.113.5"
        );
        assert_eq!(p.client(peer("127.0.0.1"), &h(&[("x-real-ip", "bogus")])), peer("127.0.0.1"));
        let raw = Headers::parsed_for_tests("GET / HTTP/1.1\r\nHost: h\r\nX-Real-IP: 203.0.113.6\r\n\r\n");
        assert_eq!(
            p.client(peer("127.0.0.1"), &raw).ip().to_string(),
            "203.0.113.6",
            "any case, from the head"
        );
    }
}
