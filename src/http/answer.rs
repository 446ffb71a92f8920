//! The application's answer as every writer sends it: framed, compressed when the client
//! and the content allow, and — for the two HTTP/1.1 writers of our own (`h1`,
//! `stream_conn`) — its head as bytes.
//!
//! Owns: the one place that turns a `ResponseStart` into status, headers and a body to
//! send (hyper's service, `h1` and `stream_conn` all call `shape`), the HTTP/1.1 head
//! encoding, and the cached `Date` value.
//! Does not own: the framing rules themselves (`framing`) or the codecs (`encoding`).

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{HeaderValue, CONNECTION, DATE};
use http::StatusCode;

use super::body::StreamedBody;
use super::encoding::{self, choose_coding, mark_encoded, Coding, StreamEncoder};
use super::exchange::{ResponseBodySource, ResponseStart};
use super::framing::{self, HeaderFacts};
use super::header_list::HeaderList;
use super::stats::Stats;
use crate::config::ServerConfig;

/// The body to send.
pub enum Outgoing {
    /// A whole body (possibly compressed; empty for a status without one).
    Full(Bytes),
    /// A stream, compressed frame by frame when its encoder is set.
    Stream(StreamedBody),
}

/// A response ready to be written.
pub struct Shaped {
    pub status: StatusCode,
    /// The application's reason phrase, if it chose one (HTTP/1 only).
    pub reason: Option<Bytes>,
    pub headers: HeaderList,
    pub body: Outgoing,
    /// The application asked to close the connection after this answer (`Connection: close`).
    pub close: bool,
}

/// Frames and compresses the application's answer to a request (`is_head`: a HEAD request,
/// whose answer keeps the length the application declared when it gave no body).
pub fn shape(
    start: ResponseStart,
    is_head: bool,
    accept_encoding: Option<&HeaderValue>,
    config: &ServerConfig,
    stats: &Arc<Stats>,
) -> Shaped {
    let ResponseStart { status, reason, mut headers, body } = start;
    let head_without_body = is_head && matches!(&body, ResponseBodySource::Full(b) if b.is_empty());
    let facts = HeaderFacts::of(&headers);
    framing::prepare_headers(status, &mut headers, head_without_body, &facts);
    let coding = choose_coding(config, &mut headers, &facts, accept_encoding, status, is_head);
    let body = match framing::body_for(status, body) {
        ResponseBodySource::Full(b)
            if coding != Coding::Identity && b.len() >= config.compression.min_size =>
        {
            match encoding::encode_all(coding, &config.compression, &b) {
                Ok(encoded) => {
                    mark_encoded(&mut headers, coding, stats);
                    Outgoing::Full(encoded)
                }
                Err(e) => {
                    crate::warn!("compressing a response failed ({e}); sending it as is");
                    Outgoing::Full(b)
                }
            }
        }
        ResponseBodySource::Full(b) => Outgoing::Full(b),
        ResponseBodySource::Stream { stream, heartbeat } => {
            let encoder = StreamEncoder::new(coding, &config.compression);
            if encoder.is_some() {
                mark_encoded(&mut headers, coding, stats);
            }
            Outgoing::Stream(StreamedBody::new(stream.body(), encoder, heartbeat, Arc::clone(stats)))
        }
    };
    Shaped { status, reason, headers, body, close: facts.close }
}

/// The body of an answer the server gives itself: "404 Not Found\n".
pub fn plain_text(status: StatusCode) -> Bytes {
    Bytes::from(format!("{} {}\n", status.as_u16(), status.canonical_reason().unwrap_or("")))
}

/// How the body after an HTTP/1.1 head is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delimit {
    /// `content-length: n`.
    Length(u64),
    /// `transfer-encoding: chunked`.
    Chunked,
    /// Neither: a status without a body, or a HEAD answer that keeps the length the
    /// application declared.
    None,
}

/// Appends an HTTP/1.1 response head to `out`: the status line (with the application's
/// reason phrase when hyper would send it too, so that every writer sends the same line),
/// the headers, the framing header, one `Date`, and `connection: close` when `close` (in
/// place of any `Connection` among `headers`).
pub fn encode_head(
    out: &mut Vec<u8>,
    status: StatusCode,
    reason: Option<&[u8]>,
    headers: &HeaderList,
    delimit: Delimit,
    close: bool,
) {
    let reason = match reason {
        Some(r) if hyper::ext::ReasonPhrase::try_from(r).is_ok() => r,
        _ => status.canonical_reason().unwrap_or("").as_bytes(),
    };
    // Room for the status line and what follows the fields; each field makes its own.
    out.reserve(HEAD_FIXED + reason.len());
    let put = |out: &mut Vec<u8>, b: &[u8]| {
        // SAFETY: every piece is within the room made for it: the status line's and the
        // last lines' in `HEAD_FIXED` (and the reason), a field's by the field.
        unsafe { crate::buf::put_unchecked(out, b) }
    };
    let code: &[u8; 3] = status.as_str().as_bytes().try_into().expect("a status has three digits");
    put(out, b"HTTP/1.1 ");
    put(out, code);
    put(out, b" ");
    put(out, reason);
    put(out, b"\r\n");
    let mut dated = false;
    for (k, v) in headers {
        if k == DATE {
            dated = true;
        } else if close && k == CONNECTION {
            continue;
        }
        let (k, v) = (k.as_str().as_bytes(), v.as_bytes());
        // The rest of `HEAD_FIXED` stays free after the field.
        out.reserve(k.len() + v.len() + 4 + HEAD_FIXED);
        put(out, k);
        put(out, b": ");
        put(out, v);
        put(out, b"\r\n");
    }
    match delimit {
        Delimit::Length(n) => {
            put(out, b"content-length: ");
            put(out, itoa_buf(n).as_slice());
            put(out, b"\r\n");
        }
        Delimit::Chunked => put(out, b"transfer-encoding: chunked\r\n"),
        Delimit::None => {}
    }
    if !dated {
        put(out, b"date: ");
        with_http_date(|d| put(out, d));
        put(out, b"\r\n");
    }
    if close {
        put(out, b"connection: close\r\n");
    }
    put(out, b"\r\n");
}

/// A head's bytes at most besides its reason phrase and its fields: the status line's
/// other 15, the framing line (38 at most: 16 + 20 digits + 2), the date line (37),
/// `connection: close` (19) and the blank line (2): 111 (`the_longest_head_fits_its_room`).
const HEAD_FIXED: usize = 128;

/// The decimal digits of `n`, two at a time.
pub(crate) fn itoa_buf(mut n: u64) -> DigitBuf {
    let mut d = DigitBuf { bytes: [0; 20], start: 20 };
    while n >= 100 {
        d.start -= 2;
        d.bytes[d.start..d.start + 2].copy_from_slice(&DIGIT_PAIRS[(n % 100) as usize]);
        n /= 100;
    }
    if n >= 10 {
        d.start -= 2;
        d.bytes[d.start..d.start + 2].copy_from_slice(&DIGIT_PAIRS[n as usize]);
    } else {
        d.start -= 1;
        d.bytes[d.start] = b'0' + n as u8;
    }
    d
}

/// The two decimal digits of every number below 100.
pub(crate) const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut n = 0;
    while n < 100 {
        t[n] = [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        n += 1;
    }
    t
};

pub(crate) struct DigitBuf {
    bytes: [u8; 20],
    start: usize,
}

impl DigitBuf {
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[self.start..]
    }
}

thread_local! {
    /// The formatted date of the current second, per I/O thread (hyper caches it too).
    static DATE_CACHE: RefCell<(u64, [u8; 29])> = const { RefCell::new((0, [0; 29])) };
}

/// Calls `f` with the IMF-fixdate of now (29 bytes), formatted once per second.
fn with_http_date<R>(f: impl FnOnce(&[u8]) -> R) -> R {
    let secs = unix_seconds();
    DATE_CACHE.with(|cell| {
        let mut cache = cell.borrow_mut();
        if cache.0 != secs {
            let text = httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
            let n = text.len().min(29);
            cache.1[..n].copy_from_slice(&text.as_bytes()[..n]);
            cache.0 = secs;
        }
        f(&cache.1)
    })
}

/// The wall clock's seconds since the epoch, from the kernel's coarse clock: the second
/// is all a `Date` says, and the coarse clock is read from the vDSO without the
/// time-stamp counter and its scaling (`SystemTime::now()` and the subtraction to the
/// epoch cost ~175 instructions a response, this ~20; callgrind). It may trail the fine
/// clock by a tick (1–4 ms).
fn unix_seconds() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec to write; CLOCK_REALTIME_COARSE exists on Linux.
    if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) } == 0 {
        return ts.tv_sec.max(0) as u64;
    }
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(
        status: u16,
        reason: Option<&[u8]>,
        pairs: &[(&'static str, &'static str)],
        d: Delimit,
        close: bool,
    ) -> String {
        let mut h = HeaderList::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        let mut out = Vec::new();
        encode_head(&mut out, StatusCode::from_u16(status).unwrap(), reason, &h, d, close);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn heads_are_framed_as_asked() {
        let h = head(200, None, &[("x-a", "1"), ("date", "D")], Delimit::Length(1234), false);
        assert_eq!(h, "HTTP/1.1 200 OK\r\nx-a: 1\r\ndate: D\r\ncontent-length: 1234\r\n\r\n");
        let h = head(200, Some(b"Fine"), &[("date", "D")], Delimit::Chunked, true);
        assert_eq!(
            h,
            "HTTP/1.1 200 Fine\r\ndate: D\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        );
        let h = head(204, Some(b"bad\r\nx"), &[("date", "D")], Delimit::None, false);
        assert_eq!(h, "HTTP/1.1 204 No Content\r\ndate: D\r\n\r\n", "a phrase hyper refuses is not sent");
        let h = head(200, None, &[("connection", "keep-alive"), ("x-a", "1")], Delimit::Length(0), true);
        assert!(h.starts_with("HTTP/1.1 200 OK\r\nx-a: 1\r\ncontent-length: 0\r\ndate: "), "{h}");
        assert!(
            h.ends_with("\r\nconnection: close\r\n\r\n"),
            "closing, the runtime's Connection replaces the application's: {h}"
        );
        let h = head(200, None, &[("connection", "keep-alive")], Delimit::Length(0), false);
        assert!(h.starts_with("HTTP/1.1 200 OK\r\nconnection: keep-alive\r\n"), "{h}");
        let h = head(200, None, &[], Delimit::Length(0), false);
        assert!(h.starts_with("HTTP/1.1 200 OK\r\ncontent-length: 0\r\ndate: "), "{h}");
        assert!(h.ends_with(" GMT\r\n\r\n"), "{h}");
        assert_eq!(h.len(), "HTTP/1.1 200 OK\r\ncontent-length: 0\r\ndate: \r\n\r\n".len() + 29);
    }

    /// The longest head besides its reason and fields stays within `HEAD_FIXED`, and heads
    /// are written whole one after another into one buffer (debug builds also check every
    /// piece against the room).
    #[test]
    fn the_longest_head_fits_its_room() {
        let mut out = Vec::new();
        let long = "v".repeat(5000);
        let mut h = HeaderList::new();
        h.append("x-long", HeaderValue::from_str(&long).unwrap());
        h.append("connection", HeaderValue::from_static("keep-alive"));
        for (d, close) in
            [(Delimit::Length(u64::MAX), true), (Delimit::Chunked, true), (Delimit::None, false)]
        {
            let before = out.len();
            encode_head(&mut out, StatusCode::from_u16(599).unwrap(), Some(b"Custom Reason"), &h, d, close);
            let head = std::str::from_utf8(&out[before..]).unwrap();
            assert!(
                head.starts_with("HTTP/1.1 599 Custom Reason\r\nx-long: v") && head.ends_with("\r\n\r\n")
            );
            // The fields as written: closing, the application's `Connection` is left out.
            let fields: usize = h
                .iter()
                .filter(|(k, _)| !(close && *k == CONNECTION))
                .map(|(k, v)| k.as_str().len() + v.len() + 4)
                .sum();
            assert!(head.len() - "Custom Reason".len() - fields <= HEAD_FIXED, "{d:?}: {} bytes", head.len());
        }
    }

    #[test]
    fn the_date_is_the_current_second() {
        let fine = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        let coarse = unix_seconds();
        assert!(coarse + 1 >= fine && coarse <= fine + 1, "coarse {coarse}, fine {fine}");
        let date = with_http_date(|d| String::from_utf8(d.to_vec()).unwrap());
        let parsed = httpdate::parse_http_date(&date).expect("an IMF-fixdate");
        let secs = parsed.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        assert!(secs + 2 >= fine && secs <= fine + 2, "{date} is now");
    }

    #[test]
    fn lengths_in_decimal() {
        for n in [0u64, 7, 10, 99, 100, 12345, u64::MAX] {
            assert_eq!(itoa_buf(n).as_slice(), n.to_string().as_bytes());
        }
    }
}
