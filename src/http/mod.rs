//! The HTTP core: HTTP/1.1 and h2c on hyper, with limits, timeouts and graceful drain.
//!
//! Knows nothing of PHP. The application receives `IncomingRequest`s through a
//! `Dispatcher` and answers through their `Reply`; the PHP runtime and the Rust tests use
//! exactly the same path.

pub mod answer;
pub mod balance;
pub mod body;
pub mod body_memory;
pub mod brotli_stream;
pub mod conn;
pub mod cookie;
pub mod driven;
pub mod encoding;
pub mod exchange;
pub mod fields;
pub mod form;
pub mod framing;
pub mod gzip_stream;
pub mod h1;
pub mod head_checks;
pub mod header_list;
pub mod in_place;
pub mod incoming;
pub mod multipart;
pub mod outbox;
pub mod race;
pub mod server;
pub mod service;
pub mod sse;
pub mod static_files;
pub mod stats;
pub mod stream;
pub mod stream_conn;
pub mod timer;
pub mod tls;
pub mod topics;
pub mod wake_batch;

pub use exchange::{
    Dispatcher, IncomingRequest, Reply, RequestBody, RequestHead, ResponseBodySource, ResponseStart,
    UploadedFile,
};
pub use header_list::HeaderList;
pub use outbox::Outbox;
pub use server::{ServerHandle, StartError};
pub use stats::{Stats, StatsSnapshot};
pub use stream::{PushOutcome, StreamAborted, StreamClosed, StreamEvent, StreamEvents, StreamShared};
pub use topics::Topics;

/// Appends `ip` as `IpAddr`'s `Display` writes it; IPv4 (the common case) without the
/// formatting machinery, which took ~1,300 instructions a `Via\Request::remoteAddress()`.
pub fn push_ip(out: &mut Vec<u8>, ip: std::net::IpAddr) {
    match ip {
        std::net::IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                out.extend_from_slice(answer::itoa_buf(u64::from(octet)).as_slice());
            }
        }
        v6 => {
            use std::io::Write as _;
            let _ = write!(out, "{v6}");
        }
    }
}

/// `ip` as text (`push_ip`).
pub fn ip_text(ip: std::net::IpAddr) -> String {
    let mut out = Vec::with_capacity(15);
    push_ip(&mut out, ip);
    // ASCII digits, dots, hex digits and colons only.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_address_reads_as_display_writes_it() {
        for ip in [
            "0.0.0.0",
            "255.255.255.255",
            "10.0.0.1",
            "127.0.0.1",
            "192.168.100.9",
            "::1",
            "::ffff:1.2.3.4",
            "2001:db8::8a2e:370:7334",
        ] {
            let ip: std::net::IpAddr = ip.parse().expect("an address");
            assert_eq!(super::ip_text(ip), ip.to_string());
        }
    }
}
