//! `Set-Cookie` header values, built and checked like PHP's `setcookie()`, plus the
//! attributes PHP 8.2 cannot express (`Partitioned`, an explicit `Max-Age`).
//!
//! Pure: no PHP, no I/O. Errors name what is wrong; nothing is silently dropped.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Strict,
    Lax,
    None,
}

impl SameSite {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "strict" => Some(Self::Strict),
            "lax" => Some(Self::Lax),
            "none" => Some(Self::None),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct CookieOptions {
    /// Unix time; 0 = a session cookie.
    pub expires: i64,
    pub max_age: Option<i64>,
    pub path: String,
    pub domain: String,
    pub secure: bool,
    pub http_only: bool,
    pub same_site: Option<SameSite>,
    pub partitioned: bool,
    /// Send the value as is (`setrawcookie`); otherwise it is rawurlencoded.
    pub raw: bool,
}

const FORBIDDEN: &[u8] = b"=,; \t\r\n\x0b\x0c";
const FORBIDDEN_IN_VALUE: &[u8] = b",; \t\r\n\x0b\x0c";

/// RFC 3986 unreserved characters stay; everything else is %XX (PHP's `rawurlencode`).
pub fn raw_url_encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len());
    for &c in input {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~') {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// `Thu, 01 Jan 1970 00:00:01 GMT` (IMF-fixdate, RFC 9110 §5.6.7). Times outside what the
/// format can write (before 1970, after 9999) are clamped: `httpdate` would panic on them,
/// and an `expires` from PHP may be any integer.
pub fn http_date(unix: i64) -> String {
    /// 9999-12-31T23:59:59Z, the last instant an IMF-fixdate can name.
    const LAST: i64 = 253_402_300_799;
    let secs = unix.clamp(0, LAST) as u64;
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// Builds a `Set-Cookie` value. `now` is the current Unix time (for `Max-Age`).
pub fn build(name: &[u8], value: &[u8], o: &CookieOptions, now: i64) -> Result<String, String> {
    if name.is_empty() {
        return Err("cookie name must not be empty".into());
    }
    if name.iter().any(|c| FORBIDDEN.contains(c)) || !name.iter().all(|c| c.is_ascii_graphic()) {
        return Err("cookie name must not contain \"=\", \",\", \";\", \" \", \"\\t\", \"\\r\", \"\\n\", \
                    \"\\013\", \"\\014\" or non-ASCII bytes"
            .into());
    }
    if o.raw && value.iter().any(|c| FORBIDDEN_IN_VALUE.contains(c)) {
        return Err("raw cookie value must not contain \",\", \";\", \" \", \"\\t\", \"\\r\", \"\\n\", \
                    \"\\013\" or \"\\014\""
            .into());
    }
    for (what, v) in [("path", &o.path), ("domain", &o.domain)] {
        if v.bytes().any(|c| FORBIDDEN_IN_VALUE.contains(&c)) {
            return Err(format!(
                "cookie {what} must not contain \",\", \";\", \" \", \"\\t\", \"\\r\", \"\\n\", \
                 \"\\013\" or \"\\014\""
            ));
        }
    }
    if o.expires > 253_402_300_799 {
        return Err("cookie expiry date must not have a year greater than 9999".into());
    }
    if o.partitioned && !o.secure {
        return Err("a partitioned cookie must also be secure".into());
    }
    if o.same_site == Some(SameSite::None) && !o.secure {
        return Err("a SameSite=None cookie must also be secure (browsers reject it otherwise)".into());
    }
    let mut out = String::with_capacity(64);
    out.push_str(std::str::from_utf8(name).map_err(|_| "cookie name must be ASCII")?);
    out.push('=');
    if value.is_empty() {
        // PHP's way of deleting a cookie.
        out.push_str("deleted; Expires=");
        out.push_str(&http_date(1));
        out.push_str("; Max-Age=0");
    } else {
        if o.raw {
            out.push_str(std::str::from_utf8(value).map_err(|_| "raw cookie value must be ASCII")?);
        } else {
            out.push_str(&raw_url_encode(value));
        }
        if o.expires > 0 {
            out.push_str("; Expires=");
            out.push_str(&http_date(o.expires));
            if o.max_age.is_none() {
                out.push_str(&format!("; Max-Age={}", (o.expires - now).max(0)));
            }
        }
        if let Some(age) = o.max_age {
            out.push_str(&format!("; Max-Age={age}"));
        }
    }
    if !o.path.is_empty() {
        out.push_str("; Path=");
        out.push_str(&o.path);
    }
    if !o.domain.is_empty() {
        out.push_str("; Domain=");
        out.push_str(&o.domain);
    }
    if o.secure {
        out.push_str("; Secure");
    }
    if o.http_only {
        out.push_str("; HttpOnly");
    }
    if let Some(s) = o.same_site {
        out.push_str("; SameSite=");
        out.push_str(s.as_str());
    }
    if o.partitioned {
        out.push_str("; Partitioned");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(http_date(1), "Thu, 01 Jan 1970 00:00:01 GMT");
        assert_eq!(http_date(1_700_000_000), "Tue, 14 Nov 2023 22:13:20 GMT");
        assert_eq!(http_date(-5), "Thu, 01 Jan 1970 00:00:00 GMT", "clamped, not a panic");
        assert_eq!(http_date(i64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT", "clamped, not a panic");
    }

    #[test]
    fn full_cookie() {
        let o = CookieOptions {
            expires: 1_700_000_060,
            path: "/".into(),
            domain: "example.com".into(),
            secure: true,
            http_only: true,
            same_site: Some(SameSite::None),
            partitioned: true,
            ..Default::default()
        };
        assert_eq!(
            build(b"sid", b"a b/c", &o, 1_700_000_000).unwrap(),
            "sid=a%20b%2Fc; Expires=Tue, 14 Nov 2023 22:14:20 GMT; Max-Age=60; Path=/; \
             Domain=example.com; Secure; HttpOnly; SameSite=None; Partitioned"
        );
    }

    #[test]
    fn explicit_max_age_and_deletion() {
        let o = CookieOptions { max_age: Some(30), ..Default::default() };
        assert_eq!(build(b"a", b"1", &o, 0).unwrap(), "a=1; Max-Age=30");
        assert_eq!(
            build(b"a", b"", &o, 0).unwrap(),
            "a=deleted; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0"
        );
    }

    #[test]
    fn invalid_input_is_an_error() {
        let o = CookieOptions::default();
        assert!(build(b"", b"1", &o, 0).is_err());
        assert!(build(b"a=b", b"1", &o, 0).is_err());
        assert!(build(b"a", b"x;y", &CookieOptions { raw: true, ..Default::default() }, 0).is_err());
        assert!(build(b"a", b"1", &CookieOptions { path: "/a;b".into(), ..Default::default() }, 0).is_err());
        assert!(build(b"a", b"1", &CookieOptions { partitioned: true, ..Default::default() }, 0).is_err());
        assert!(
            build(b"a", b"1", &CookieOptions { expires: 300_000_000_000, ..Default::default() }, 0).is_err()
        );
    }
}
