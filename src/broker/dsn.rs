//! The DSN of a shared broker, checked before anything connects.
//!
//! - `redis://[user:password@]host[:port][/db]`, `rediss://…` (TLS);
//! - `nats://[token@ | user:password@]host[:port]`, `tls://…` (NATS over TLS);
//!
//! with options in the query: `channel` (the Redis channel or NATS subject every message
//! travels on; default `via`), `secret` (messages are signed with it and only messages
//! signed with it are taken), `buffer` (bytes held while the broker is down or slow;
//! default 1 MiB), `ca` (a PEM file of CA certificates for TLS), `echo=1` (deliver this
//! server's own messages back to it).
//!
//! Owns: parsing, limits, and a display form without credentials (for every message a
//! user sees). Does not own: connecting (`redis`, `nats`).

use std::path::PathBuf;

use url::Url;

/// Bytes of messages held while the broker is down or behind: 1 MiB.
pub const DEFAULT_BUFFER: usize = 1 << 20;
/// The most a DSN may ask to hold: 256 MiB.
pub const MAX_BUFFER: usize = 256 << 20;
/// The channel / subject when the DSN names none.
pub const DEFAULT_CHANNEL: &str = "via";
const MAX_CHANNEL: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    Redis,
    Nats,
}

/// Credentials, kept apart from everything that may be shown.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub username: Option<String>,
    pub password: Option<String>,
    /// NATS only: `nats://token@host`.
    pub token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(..)")
    }
}

impl Credentials {
    /// Replaces every secret in `text` (an error message from a client library) by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in [&self.password, &self.token].into_iter().flatten() {
            if secret.len() >= 3 {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteConfig {
    pub driver: Driver,
    pub host: String,
    pub port: u16,
    /// Redis: the database number.
    pub db: i64,
    pub tls: bool,
    pub ca_file: Option<PathBuf>,
    pub credentials: Credentials,
    pub channel: String,
    pub secret: Option<Vec<u8>>,
    pub buffer: usize,
    pub echo: bool,
}

impl RemoteConfig {
    /// `scheme://host:port` — what messages and `stats()` may show.
    pub fn display(&self) -> String {
        let scheme = match (self.driver, self.tls) {
            (Driver::Redis, false) => "redis",
            (Driver::Redis, true) => "rediss",
            (Driver::Nats, false) => "nats",
            (Driver::Nats, true) => "tls",
        };
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        format!("{scheme}://{host}:{}", self.port)
    }

    /// Parses a DSN of one of the schemes above; `Ok(None)` for another scheme.
    pub fn parse(dsn: &str) -> Result<Option<Self>, String> {
        let scheme = dsn.split_once("://").map_or("", |(s, _)| s);
        let (driver, tls, default_port) = match scheme {
            "redis" => (Driver::Redis, false, 6379),
            "rediss" => (Driver::Redis, true, 6379),
            "nats" => (Driver::Nats, false, 4222),
            "tls" => (Driver::Nats, true, 4222),
            _ => return Ok(None),
        };
        // The message never quotes the DSN: it may hold a password.
        let url = Url::parse(dsn).map_err(|e| format!("malformed {scheme}:// DSN ({e})"))?;
        let host = match url.host() {
            Some(url::Host::Ipv6(a)) => a.to_string(),
            Some(h) => h.to_string(),
            None => return Err(format!("{scheme}:// needs a host")),
        };
        let mut config = Self {
            driver,
            host,
            port: url.port().unwrap_or(default_port),
            db: 0,
            tls,
            ca_file: None,
            credentials: credentials(&url, driver)?,
            channel: DEFAULT_CHANNEL.to_owned(),
            secret: None,
            buffer: DEFAULT_BUFFER,
            echo: false,
        };
        config.db = database(&url, driver)?;
        for (key, value) in url.query_pairs() {
            config.set_option(&key, &value)?;
        }
        Ok(Some(config))
    }

    fn set_option(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "channel" => {
                let valid = !value.is_empty()
                    && value.len() <= MAX_CHANNEL
                    && value.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'*' | b'>'));
                if !valid {
                    return Err(format!(
                        "channel must be 1 to {MAX_CHANNEL} printable ASCII characters without spaces, * or >"
                    ));
                }
                self.channel = value.to_owned();
            }
            "secret" => {
                if value.len() < 16 {
                    return Err("secret must be at least 16 bytes".into());
                }
                self.secret = Some(value.as_bytes().to_vec());
            }
            "buffer" => {
                self.buffer =
                    value.parse::<usize>().ok().filter(|n| (1..=MAX_BUFFER).contains(n)).ok_or_else(
                        || format!("buffer must be between 1 and {MAX_BUFFER} bytes, \"{value}\" given"),
                    )?;
            }
            "ca" => {
                if !self.tls {
                    return Err("ca is for TLS only (rediss:// or tls://)".into());
                }
                let path = PathBuf::from(value);
                if !path.is_file() {
                    return Err(format!("ca: \"{value}\" is not a readable file"));
                }
                self.ca_file = Some(path);
            }
            "echo" => {
                self.echo = match value {
                    "1" | "true" => true,
                    "0" | "false" => false,
                    _ => return Err(format!("echo must be 0 or 1, \"{value}\" given")),
                }
            }
            "max_payload" => {} // the PHP broker's own option
            other => {
                return Err(format!(
                    "unknown DSN option \"{other}\" (known: channel, secret, buffer, ca, echo, max_payload)"
                ))
            }
        }
        Ok(())
    }
}

fn decoded(part: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| "the user or password of the DSN is not valid percent-encoded UTF-8".into())
}

fn credentials(url: &Url, driver: Driver) -> Result<Credentials, String> {
    let user = (!url.username().is_empty()).then(|| decoded(url.username())).transpose()?;
    let password = url.password().map(decoded).transpose()?;
    Ok(match (driver, user, password) {
        (Driver::Nats, Some(token), None) => Credentials { token: Some(token), ..Credentials::default() },
        (_, username, password) => Credentials { username, password, token: None },
    })
}

fn database(url: &Url, driver: Driver) -> Result<i64, String> {
    let path = url.path().trim_start_matches('/');
    match (driver, path) {
        (_, "") => Ok(0),
        (Driver::Redis, db) => db
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=1_000_000).contains(n))
            .ok_or_else(|| format!("the path of a redis:// DSN is a database number, \"/{db}\" given")),
        (Driver::Nats, p) => Err(format!("a nats:// DSN has no path, \"/{p}\" given")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(dsn: &str) -> RemoteConfig {
        RemoteConfig::parse(dsn).expect("parses").expect("a remote scheme")
    }

    #[test]
    fn redis_dsns_with_credentials_db_and_options() {
        let c = parse("redis://app:p%40ss@127.0.0.1:6390/2?channel=room&buffer=4096&secret=0123456789abcdef");
        assert_eq!(
            (c.driver, c.host.as_str(), c.port, c.db, c.tls),
            (Driver::Redis, "127.0.0.1", 6390, 2, false)
        );
        assert_eq!(c.credentials.username.as_deref(), Some("app"));
        assert_eq!(c.credentials.password.as_deref(), Some("p@ss"));
        assert_eq!((c.channel.as_str(), c.buffer), ("room", 4096));
        assert_eq!(c.secret.as_deref(), Some(&b"0123456789abcdef"[..]));
        assert_eq!(c.display(), "redis://127.0.0.1:6390");
        assert_eq!(parse("rediss://h").display(), "rediss://h:6379");
    }

    #[test]
    fn nats_dsns_with_a_token_or_a_user() {
        let c = parse("nats://s3cr3t@localhost");
        assert_eq!((c.port, c.credentials.token.as_deref()), (4222, Some("s3cr3t")));
        let c = parse("tls://u:p@[::1]:4333");
        assert_eq!((c.tls, c.host.as_str(), c.credentials.username.as_deref()), (true, "::1", Some("u")));
        assert_eq!(c.display(), "tls://[::1]:4333");
    }

    #[test]
    fn bad_dsns_say_why_and_never_quote_the_password() {
        for (dsn, want) in [
            ("redis://", "needs a host"),
            ("redis://h/x", "database number"),
            ("nats://h/x", "no path"),
            ("redis://h?channel=a*b", "channel must be"),
            ("redis://h?secret=short", "at least 16 bytes"),
            ("redis://h?buffer=0", "buffer must be"),
            ("redis://h?ca=/etc/hosts", "TLS only"),
            ("rediss://h?ca=/nonexistent", "not a readable file"),
            ("redis://h?what=1", "unknown DSN option"),
            ("redis://u:hunter22@h:99999", "malformed"),
        ] {
            let err = RemoteConfig::parse(dsn).expect_err(dsn);
            assert!(err.contains(want), "{dsn}: {err}");
            assert!(!err.contains("hunter22"), "{dsn}: {err}");
        }
        assert_eq!(RemoteConfig::parse("memory://x"), Ok(None));
    }

    #[test]
    fn redact_hides_secrets_in_library_errors() {
        let c = parse("redis://u:hunter22@h");
        assert_eq!(c.credentials.redact("auth hunter22 failed"), "auth *** failed");
    }
}
