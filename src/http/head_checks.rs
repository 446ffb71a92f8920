//! Checks of an HTTP/1.x request head that hyper's parser does not make, applied by both
//! readers (hyper's service and the event-stream fast path) before a request reaches the
//! application.
//!
//! Owns: the `Host` rule of RFC 9112 §3.2 and the transfer codings we accept (§6.1).
//! Does not own: size limits (hyper answers 431) or body framing (hyper decodes chunked).

use http::header::{HOST, TRANSFER_ENCODING};
use http::{HeaderMap, StatusCode, Version};

/// Why a request head is refused, and the status that says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub reason: &'static str,
}

const fn bad(reason: &'static str) -> Refusal {
    Refusal { status: StatusCode::BAD_REQUEST, reason }
}

/// RFC 9112 §3.2: an HTTP/1.1 request has exactly one `Host`; no request has two, or one
/// that is not a valid `host[:port]` (empty is allowed: a target without an authority).
/// HTTP/2 carries `:authority` instead and is not checked here.
pub fn check_host(version: Version, headers: &HeaderMap) -> Result<(), Refusal> {
    if version >= Version::HTTP_2 {
        return Ok(());
    }
    let mut hosts = headers.get_all(HOST).iter();
    let first = hosts.next().map(http::HeaderValue::as_bytes);
    check_hosts(version, first, hosts.next().is_some())
}

/// `check_host` for a head read without a `HeaderMap` (`h1`): its first `Host` value, and
/// whether another followed.
pub fn check_hosts(version: Version, first: Option<&[u8]>, more: bool) -> Result<(), Refusal> {
    let Some(value) = first else {
        return if version == Version::HTTP_11 { Err(bad("no Host header")) } else { Ok(()) };
    };
    if more {
        return Err(bad("more than one Host header"));
    }
    if value.is_empty() || plain_host(value) {
        return Ok(());
    }
    match http::uri::Authority::try_from(value) {
        Ok(a) if !a.as_str().contains('@') => Ok(()),
        _ => Err(bad("invalid Host header")),
    }
}

/// The common `Host` — a name or IPv4 address (letters, digits, `-`, `.`), and maybe a port
/// of 1 to 5 digits — accepted without `Authority`'s parse (which copies the value first).
/// Anything else goes to that parse; this only ever accepts what it would.
fn plain_host(v: &[u8]) -> bool {
    let (name, port) = match v.iter().position(|&b| b == b':') {
        Some(i) => (&v[..i], Some(&v[i + 1..])),
        None => (v, None),
    };
    !name.is_empty()
        && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && port.is_none_or(|p| (1..=5).contains(&p.len()) && p.iter().all(u8::is_ascii_digit))
}

/// RFC 9112 §6.1: the only transfer coding we decode is a single `chunked`. Anything else
/// would reach the application still encoded (`gzip, chunked`) or is a smuggling attempt
/// (`chunked, chunked`); hyper takes both as chunked.
pub fn check_transfer_encoding(headers: &HeaderMap) -> Result<(), Refusal> {
    let mut chunked = 0;
    for coding in headers.get_all(TRANSFER_ENCODING).iter().flat_map(|v| v.as_bytes().split(|&b| b == b',')) {
        match coding.trim_ascii() {
            c if c.eq_ignore_ascii_case(b"chunked") => chunked += 1,
            [] => return Err(bad("an empty transfer coding")),
            _ => {
                return Err(Refusal {
                    status: StatusCode::NOT_IMPLEMENTED,
                    reason: "a transfer coding other than chunked",
                })
            }
        }
    }
    if chunked > 1 {
        return Err(bad("chunked more than once"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn with(name: &'static str, values: &[&'static str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(name, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn host_rules() {
        let h11 = Version::HTTP_11;
        assert!(check_host(h11, &with("host", &["example.com"])).is_ok());
        assert!(check_host(h11, &with("host", &["127.0.0.1:8080"])).is_ok());
        assert!(check_host(h11, &with("host", &["[::1]:80"])).is_ok());
        assert!(check_host(h11, &with("host", &[""])).is_ok(), "empty is allowed");
        assert_eq!(check_host(h11, &HeaderMap::new()).unwrap_err().reason, "no Host header");
        assert!(check_host(Version::HTTP_10, &HeaderMap::new()).is_ok(), "HTTP/1.0 needs none");
        assert!(check_host(h11, &with("host", &["a", "b"])).is_err());
        assert!(check_host(Version::HTTP_10, &with("host", &["a", "a"])).is_err());
        assert!(check_host(h11, &with("host", &["a b"])).is_err());
        assert!(check_host(h11, &with("host", &["user@a"])).is_err());
        assert!(check_host(h11, &with("host", &["a/b"])).is_err());
        assert!(check_host(Version::HTTP_2, &HeaderMap::new()).is_ok());
    }

    /// The fast path never accepts a value the full parse refuses, and takes the common ones.
    #[test]
    fn plain_hosts_are_a_subset_of_what_authority_accepts() {
        let samples = [
            "example.com",
            "127.0.0.1:8080",
            "a",
            "a-b.c:1",
            "localhost:65535",
            "host:99999",
            "a:",
            ":80",
            "a:b",
            "a:123456",
            "a..b",
            "-a",
            "a.",
            "A.B",
            "a_b",
            "a b",
            "a/b",
            "[::1]:80",
            "user@a",
            "a:80:80",
            "%41",
            "é.com",
            "a\tb",
        ];
        for s in samples {
            if plain_host(s.as_bytes()) {
                assert!(
                    http::uri::Authority::try_from(s.as_bytes()).is_ok(),
                    "{s:?} taken but refused by the parse"
                );
            }
        }
        for s in ["example.com", "127.0.0.1:8080", "localhost:65535", "a-b.c:1"] {
            assert!(plain_host(s.as_bytes()), "{s:?} takes the fast path");
        }
        // Exhaustive over short values of the characters that matter.
        let alphabet = b"a1-.:_@ [";
        let mut v = Vec::new();
        for n in 1..=4u32 {
            for i in 0..alphabet.len().pow(n) {
                v.clear();
                let mut k = i;
                for _ in 0..n {
                    v.push(alphabet[k % alphabet.len()]);
                    k /= alphabet.len();
                }
                if plain_host(&v) {
                    assert!(
                        http::uri::Authority::try_from(&v[..]).is_ok(),
                        "{:?}",
                        String::from_utf8_lossy(&v)
                    );
                }
            }
        }
    }

    #[test]
    fn transfer_coding_rules() {
        let te = |v: &[&'static str]| check_transfer_encoding(&with("transfer-encoding", v));
        assert!(check_transfer_encoding(&HeaderMap::new()).is_ok());
        assert!(te(&["chunked"]).is_ok());
        assert!(te(&["Chunked"]).is_ok());
        assert_eq!(te(&["chunked, chunked"]).unwrap_err().status, StatusCode::BAD_REQUEST);
        assert_eq!(te(&["chunked", "chunked"]).unwrap_err().status, StatusCode::BAD_REQUEST);
        assert_eq!(te(&["gzip, chunked"]).unwrap_err().status, StatusCode::NOT_IMPLEMENTED);
        assert_eq!(te(&["gzip"]).unwrap_err().status, StatusCode::NOT_IMPLEMENTED);
        assert_eq!(te(&[","]).unwrap_err().status, StatusCode::BAD_REQUEST);
    }
}
